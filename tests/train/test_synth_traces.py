"""synth_traces: word problems whose trace the solver checks; what hidden holds out, proven."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import replace
from fractions import Fraction

import pytest
from dslkit.train.data import qc
from dslkit.train.synth_traces import (
    DISTRACTORS,
    FAILURE_CLASSES,
    HIDDEN_MODES,
    KINDS,
    TraceSynthSettings,
    beyond_rows,
    held_out_overlap,
    held_out_templates,
    phrasing_mask,
    synth_traces,
    trace_failure,
    trace_leakage,
    trained_templates,
)

from dslkit.errors import ArgumentError

SETTINGS = TraceSynthSettings(n_rows=1500, seed=2)


@pytest.fixture(scope="module")
def rows():
    return synth_traces(SETTINGS)


def _numbers(text: str) -> list[int]:
    return [int(n) for n in re.findall(r"\d+", text)]


def _trace_numbers(target: str) -> list[int]:
    return [int(n) for n in re.findall(r"(?:value|amount): (\d+)", target)]


def _held_out_pattern(template: str) -> re.Pattern[str]:
    # written here from the template text, not taken from the module under test
    body = re.sub(r"\\\{\w+\\\}", r"[\\w'$]+(?: (?:dollars|euros|pounds))?", re.escape(template))
    return re.compile(r"(?:\] |[.?!] )" + body)


def test_rows_solve_to_their_answer_and_make_sense(rows) -> None:
    report = qc(rows, compile_scenes=False)  # parses, solves to the answer, prompt determinism
    assert report.ok, report.summary()
    assert {r.split for r in rows} == {"train", "dev", "test", "hidden"}
    # whole, positive answers: every kind is drawn so the story stays possible
    assert all(Fraction(r.answer) > 0 and Fraction(r.answer).denominator == 1 for r in rows)
    assert {r.source.split(":")[3] for r in rows} == {k.name for k in KINDS}
    assert {r.family for r in rows} == {k.expert for k in KINDS}
    modes = {r.source.rsplit(":", 1)[1] for r in rows if r.split == "hidden"}
    assert modes == set(HIDDEN_MODES)
    # about a third of the questions carry a number the trace must ignore
    with_distractor = [r for r in rows if ".dx" not in r.source]
    assert 0.2 < len(with_distractor) / len(rows) < 0.4


def test_the_trace_writes_the_question_numbers_in_the_order_it_states_them(rows) -> None:
    # the policy (init_order "question"): one init per number, in the order the question
    # states them (a transfer's amount in its step), so the question determines the trace and
    # the k-th init copies the k-th relevant number; a distractor's number is never written
    roles = {k.name: [r.var for r in k.roles if r.init] for k in KINDS}
    reordered = 0
    for r in rows:
        kind = r.source.split(":")[3]
        inits = re.findall(r"op: init, var: (\w+)", r.target)
        assert sorted(inits) == sorted(roles[kind]), r.target
        written, stated = _trace_numbers(r.target), _numbers(r.prompt)
        # the written numbers are the stated ones in the same order, less the distractor's
        left = list(stated)
        for n in written:
            assert n in left, (r.prompt, r.target)
            left = left[left.index(n) + 1 :]
        assert len(stated) - len(written) == (0 if ".dx" in r.source else 1), r.prompt
        reordered += inits != roles[kind]
    assert reordered > len(rows) / 10  # fact orders vary, and the inits follow them


def test_role_order_writes_the_inits_in_the_kinds_order() -> None:
    rows = synth_traces(replace(SETTINGS, n_rows=300, init_order="role"))
    roles = {k.name: [r.var for r in k.roles if r.init] for k in KINDS}
    same = synth_traces(replace(SETTINGS, n_rows=300))
    differs = 0
    for r, q in zip(rows, same, strict=True):
        assert re.findall(r"op: init, var: (\w+)", r.target) == roles[r.source.split(":")[3]]
        assert (r.prompt, r.answer) == (q.prompt, q.answer)  # one draw, two trace policies
        differs += r.target != q.target
    assert differs > 30
    with pytest.raises(ArgumentError, match="init_order"):
        TraceSynthSettings(init_order="alphabetical")


def test_trace_failure_names_what_went_wrong(rows) -> None:
    row = next(
        r for r in rows
        if r.source.split(":")[3] == "fair_share" and ".dx" not in r.source
        and len(set(_trace_numbers(r.target))) == 3
    )  # fmt: skip
    assert trace_failure(row.target, row) == "correct"
    first, second, third = _trace_numbers(row.target)
    # the first two numbers under each other's variables (per_box and boxes multiply, so
    # swap the second and the divisor instead)
    swapped = (
        row.target.replace(f"value: {second}}}", "value: @}")
        .replace(f"value: {third}}}", f"value: {second}}}")
        .replace("value: @}", f"value: {third}}}")
    )
    assert trace_failure(swapped, row) == "number:order"
    distractor = next(n for n in _numbers(row.prompt) if n not in (first, second, third))
    picked = row.target.replace(f"value: {first}}}", f"value: {distractor}}}")
    assert trace_failure(picked, row) == "number:picked"
    unstated = next(n for n in range(1000, 2000) if n not in _numbers(row.prompt))
    digits = row.target.replace(f"value: {first}}}", f"value: {unstated}}}")
    assert trace_failure(digits, row) == "number:digits"
    assert trace_failure(row.target.replace("compute_op: div", "compute_op: sub"), row) == (
        "operation"
    )
    flipped = row.target.replace("args: [step1, people]", "args: [people, step1]")
    assert trace_failure(flipped, row) == "structure"
    assert trace_failure(row.target.replace("var: result}\n- {op: query", "var: r}\n- {op: query"), row) == "unsolvable"  # fmt: skip
    assert trace_failure("expert: arithmetic\ntrace: [", row) == "unsolvable"
    # another program for the same answer is correct: the solver decides, not the text
    spelled = row.target.replace("compute_op: mul, args: [boxes, per_box]", "compute_op: mul, args: [per_box, boxes]")  # fmt: skip
    assert spelled != row.target and trace_failure(spelled, row) == "correct"
    assert set(FAILURE_CLASSES) >= {
        trace_failure(t, row) for t in (swapped, picked, digits, flipped, row.target)
    }


def test_hidden_holds_out_variants_combinations_and_numbers(rows) -> None:
    assert trace_leakage(rows) == []
    lo, hi = SETTINGS.hidden_numbers
    train = [r for r in rows if r.split == "train"]
    held = [_held_out_pattern(k.facts[k.held_slot][-1]) for k in KINDS]
    held.append(_held_out_pattern(DISTRACTORS[-1]))
    for r in train:
        assert not any(lo <= n <= hi for n in _numbers(r.prompt)), r.prompt
        assert not any(p.search(r.prompt) for p in held), r.prompt
    train_masks = {phrasing_mask(r.prompt) for r in train}
    longest = max(len(str(n)) for r in train for n in _trace_numbers(r.target))
    hidden = [r for r in rows if r.split == "hidden"]
    for r in hidden:
        mode = r.source.rsplit(":", 1)[1]
        new_numbers = [n for n in _trace_numbers(r.target) if lo <= n <= hi]
        assert bool(new_numbers) == ("numbers" in mode), r.source
        # held-out values, but never more digits than training writes
        assert all(len(str(n)) <= longest for n in _trace_numbers(r.target))
        if mode != "numbers":
            assert phrasing_mask(r.prompt) not in train_masks, r.prompt
        if mode.startswith("variant"):
            assert any(p.search(r.prompt) for p in held), r.prompt
    assert sum(r.source.endswith(":variant") for r in hidden) > 10


def test_phrasing_mask_is_the_phrasing() -> None:
    # without made-up words: those are wording of their own, which the mask keeps
    rows = synth_traces(TraceSynthSettings(n_rows=3000, seed=5, unknown_words=0.0))
    masks = defaultdict(set)
    for r in rows:
        masks[tuple(r.source.split(":")[3:5])].add(phrasing_mask(r.prompt))
    assert all(len(m) == 1 for m in masks.values())  # fillers never change the mask
    assert len({next(iter(m)) for m in masks.values()}) > 0.9 * len(masks)  # phrasings do
    assert phrasing_mask("[task:trace] Amara's 5 apples cost $3 or 3 euros. [OUT]") == (
        "[task:trace] _ # _ cost $# or $#. [OUT]"
    )


def test_leakage_names_what_leaks(rows) -> None:
    lo, hi = SETTINGS.hidden_numbers
    hidden = [r for r in rows if r.split == "hidden"]
    variant = next(r for r in hidden if r.source.endswith(":variant"))
    numbers = next(r for r in hidden if r.source.endswith(":numbers"))
    # a hidden row moved into train: its held-out clause, its held-out numbers
    moved = [replace(r, split="train") if r.id in (variant.id, numbers.id) else r for r in rows]
    found = trace_leakage(moved)
    assert any(variant.id in f and "held-out clause" in f for f in found), found
    assert any(numbers.id in f and f"held-out number in {lo}-{hi}" in f for f in found), found
    # a hidden row whose phrasing occurs in train and whose numbers are training's
    seen = next(r for r in rows if r.split == "train")
    twin = replace(seen, id="twin", split="hidden", prompt=re.sub(r"\d+", "7", seen.prompt))
    assert any(
        "twin" in f and "phrasing occurs in train" in f for f in trace_leakage([*rows, twin])
    )
    # a held-out prompt equal to a training prompt
    copy = replace(seen, id="copy", split="dev")
    assert any("copy" in f and "prompt also in train" in f for f in trace_leakage([*rows, copy]))


def test_beyond_rows_have_more_digits_than_training(rows) -> None:
    extra = beyond_rows(18, seed=3)
    assert {r.split for r in extra} == {"beyond"} and len(extra) >= 9
    assert qc(extra, compile_scenes=False).ok
    longest = max(len(str(n)) for r in rows if r.split == "train" for n in _trace_numbers(r.target))
    assert all(max(len(str(n)) for n in _trace_numbers(r.target)) > longest for r in extra)


def test_a_held_out_range_training_could_not_cover_is_refused() -> None:
    for held in ((50, 60), (150, 140), (900, 1200)):
        with pytest.raises(ArgumentError, match="hidden_numbers"):
            TraceSynthSettings(hidden_numbers=held)


def test_synth_traces_command(tmp_path, capsys) -> None:
    from dslkit.train.cli import main
    from dslkit.train.data import read_jsonl

    out = tmp_path / "traces.jsonl"
    assert main(["synth-traces", str(out), "--rows", "90"]) == 0
    assert "leakage check: none; qc: ok" in capsys.readouterr().out
    assert len(read_jsonl(out)) == 90
    assert main(["synth-traces", str(out), "--rows", "90", "--hidden-numbers", "300", "349"]) == 0
    assert all(
        not any(300 <= n <= 349 for n in _numbers(r.prompt))
        for r in read_jsonl(out)
        if r.split == "train"
    )
    assert main(["synth-traces", str(out), "--rows", "90", "--init-order", "role"]) == 0
    roles = {k.name: [r.var for r in k.roles if r.init] for k in KINDS}
    assert all(
        re.findall(r"op: init, var: (\w+)", r.target) == roles[r.source.split(":")[3]]
        for r in read_jsonl(out)
    )
    assert main(["synth-traces", str(out), "--hidden-numbers", "20", "30"]) == 2
    assert "hidden_numbers 20-30" in capsys.readouterr().err


def _fill(template: str) -> str:
    # a template with fixed slot fillers, written here (not the module's renderer)
    words = {"Who": "Amara", "who": "Amara", "whom": "Amara", "poss": "Amara's", "Poss": "Amara's",
             "name": "Amara", "name2": "Bruno", "item": "apple", "items": "apples", "box": "box",
             "boxes": "boxes", "one": "friend", "group": "friends", "unit": "km", "noise": "songs"}  # fmt: skip
    return re.sub(
        r"\{(\w+)\}",
        lambda m: words.get(m.group(1)) or ("$7" if m.group(1).startswith("m") else "7"),
        template,
    )


def test_every_slot_has_twelve_distinct_phrasings() -> None:
    # more clause variants per slot: a held-out one then sits among many trained ones, and
    # each variant is a phrasing of its own (masking names, items and numbers keeps them apart)
    for kind in KINDS:
        for slot in kind.facts:
            assert len(slot) >= 12, (kind.name, slot[0])
            masks = [phrasing_mask(f"[task:trace] {_fill(t)} [OUT]") for t in slot]
            assert len(set(masks)) == len(slot), (kind.name, slot[0])
    assert len(DISTRACTORS) >= 15


def test_training_draws_every_variant_but_the_held_out_one(rows) -> None:
    # source key "o<order>.v<i>-<j>-<k>.q<question>.d<distractor>": the clause variant per slot
    used: dict[tuple[str, int], set[int]] = defaultdict(set)
    held: dict[tuple[str, int], set[int]] = defaultdict(set)
    for r in rows:
        kind, key = r.source.split(":")[3:5]
        picked = [int(v) for v in key.split(".")[1][1:].split("-")]
        for slot, v in enumerate(picked):
            (used if r.split == "train" else held)[(kind, slot)].add(v)
    for kind in KINDS:
        for slot, variants in enumerate(kind.facts):
            last = len(variants) - 1
            want = set(range(last)) if slot == kind.held_slot else set(range(last + 1))
            assert used[(kind.name, slot)] == want, (kind.name, slot)
        assert len(kind.facts[kind.held_slot]) - 1 in held[(kind.name, kind.held_slot)]


def test_held_out_phrasings_share_no_distinctive_wording_with_trained_ones() -> None:
    # a held-out clause that borrows a trained clause's word pair ("{Who} wants" beside a
    # trained "{Who} wants to buy") is half seen: hidden would then be easier than it claims
    assert held_out_overlap() == []


def test_held_out_overlap_finds_a_borrowed_pair(monkeypatch) -> None:
    # the measure itself: a trained clause that copies a held-out one's distinctive pair is named
    import dslkit.train.synth_traces as st

    held = KINDS[0].facts[KINDS[0].held_slot][-1]  # "{Who} donates {c} {items} to a school."
    borrowed = (*DISTRACTORS[:-1], "{Who} donates {x} {noise} every year.", DISTRACTORS[-1])
    monkeypatch.setattr(st, "DISTRACTORS", borrowed)
    found = st.held_out_overlap()
    assert any(held in line and "'<person> donates'" in line for line in found), found
    # a pair used by many trained templates is shared vocabulary, not borrowed wording
    assert not any("'per hour'" in line for line in found)


def test_held_out_templates_are_what_hidden_rows_alone_use(rows) -> None:
    # the measure compares the templates the generator actually holds out: every held-out
    # template shows up in some hidden prompt and in no training prompt
    held = held_out_templates()
    assert len(held) == len(KINDS) + 1
    assert set(held).isdisjoint(trained_templates())
    for template in held:
        pattern = _held_out_pattern(template)
        hits = {r.split for r in rows if pattern.search(r.prompt)}
        assert "hidden" in hits and "train" not in hits, (template, hits)


def _templates_of(sentence: str, kind: str) -> set[str]:
    # the clause templates of the kind, and distractors, a rendered sentence can come from
    facts = [v for k in KINDS if k.name == kind for slot in k.facts for v in slot]
    found = {t for t in [*facts, *DISTRACTORS] if _held_out_pattern(t).fullmatch(f"] {sentence}")}
    assert found, sentence
    return found


def _sentences(prompt: str) -> list[str]:
    inner = prompt.removeprefix("[task:trace] ").removesuffix(" [OUT]")
    return re.findall(r"[^.?!]+[.?!]", inner)


def test_unknown_words_replace_some_wording_of_one_training_sentence() -> None:
    made = synth_traces(replace(SETTINGS, n_rows=900, unknown_words=0.4))
    plain = {
        r.source.split(":")[2]: r
        for r in synth_traces(replace(SETTINGS, n_rows=900, unknown_words=0.0))
    }
    # every split but train is the same draw with or without made-up words
    assert [r for r in made if r.split != "train"] == [
        r for r in plain.values() if r.split != "train"
    ]
    changed = [r for r in made if r.source.endswith(":unknown-words")]
    assert {r.split for r in changed} == {"train"}
    assert 0.3 < len(changed) / sum(r.split == "train" for r in made) < 0.5
    template_words = {
        w.lower()
        for t in [*trained_templates(), *held_out_templates()]
        for w in re.findall(r"[A-Za-z']+", re.sub(r"\{\w+\}", " ", t))
    }
    cue = {v for k in KINDS for j in k.cue_slots for v in k.facts[j]}
    assert cue  # gain or loss: the verb alone says which
    kinds_changed = set()
    for r in changed:
        base = plain[r.source.split(":")[2]]
        # the same question but for the words: same trace, same numbers, same answer
        assert (r.target, r.answer) == (base.target, base.answer)
        ours, theirs = r.prompt.split(" "), base.prompt.split(" ")
        assert len(ours) == len(theirs), (r.prompt, base.prompt)
        diff = [j for j, (a, b) in enumerate(zip(ours, theirs, strict=True)) if a != b]
        assert diff, r.prompt
        for j in diff:
            word = ours[j].rstrip(".,").lower()
            assert word.isalpha() and word not in template_words, (ours[j], r.prompt)
            # a number and the word after it (its noun or unit) are what the trace reads
            assert not re.search(r"\d", theirs[j]) and not re.search(r"\d", theirs[j - 1])
        # all of one sentence, never a gain or a loss clause
        sentences = [
            (a, b) for a, b in zip(_sentences(r.prompt), _sentences(base.prompt), strict=True) if a != b
        ]  # fmt: skip
        assert len(sentences) == 1, (r.prompt, base.prompt)
        kind = r.source.split(":")[3]
        assert _templates_of(sentences[0][1].strip(), kind).isdisjoint(cue), r.prompt
        kinds_changed.add(kind)
    assert kinds_changed == {k.name for k in KINDS}
    assert trace_leakage(made) == []
    assert qc(made, compile_scenes=False).ok


def test_made_up_words_are_never_template_words(monkeypatch) -> None:
    import random

    import dslkit.train.synth_traces as st

    # two syllables of "b"/"d" + "a": four words; a distractor that spells two of them leaves two
    monkeypatch.setattr(st, "_SYLLABLE_ONSETS", "bd")
    monkeypatch.setattr(st, "_SYLLABLE_VOWELS", "a")
    monkeypatch.setattr(st, "DISTRACTORS", (*DISTRACTORS, "{Who} baba dada {x} {noise}."))
    st._template_vocabulary.cache_clear()
    try:
        rng = random.Random(0)
        drawn = {st.made_up_word(rng) for _ in range(200)}
    finally:
        st._template_vocabulary.cache_clear()
    assert drawn & {"bada", "daba"} and not drawn & {"baba", "dada"}
    assert drawn <= {"bada", "daba", "bababa", "babada", "badaba", "badada", "dababa",
                     "dabada", "dadaba", "dadada"}  # fmt: skip


def test_synth_traces_cli_sets_the_share_of_made_up_words(tmp_path) -> None:
    from dslkit.train.cli import main
    from dslkit.train.data import read_jsonl

    def prompts(share: str) -> list[str]:
        out = tmp_path / f"rows_{share}.jsonl"
        assert main(["synth-traces", str(out), "--rows", "90", "--unknown-words", share]) == 0
        return [r.prompt for r in read_jsonl(out) if r.split == "train"]

    none, some = prompts("0"), prompts("1")
    assert len(none) == len(some) and none != some  # the same problems, other wording
