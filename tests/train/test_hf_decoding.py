"""GrammarLogitsProcessor with transformers ``generate``: tiny random Llama and GPT-2 models and
tokenizers trained here (byte-level BPE, Unigram with Metaspace and byte fallback), no download.

Every sampled output parses, validates and (scenes with content) binds; every gold scene and
example trace fed through the processor keeps its own tokens unmasked."""

from __future__ import annotations

import json
import random
import re
import sys
from functools import cache
from pathlib import Path
from typing import Any
from unittest import mock

import pytest

pytest.importorskip("transformers")

import torch
from dslkit.tokenizer import read_vocabulary
from dslkit.tokenizer import vocab as vocab_module
from dslkit.tokenizer.vocab import byte_alphabet
from dslkit.train.data import trace_rows
from dslkit.train.hf_decoding import GrammarLogitsProcessor, clear_caches, compiled_masker
from hypothesis import given, settings
from hypothesis import strategies as st
from transformers import (
    GPT2Config,
    GPT2LMHeadModel,
    LlamaConfig,
    LlamaForCausalLM,
    LogitsProcessorList,
    PreTrainedTokenizerFast,
)
from vocabulary_kinds import train_tokenizer

import scene_dsl
import trace_dsl
from scene_dsl.strategies import sample_content, sample_scene
from trace_dsl.strategies import sample_trace

ROOT = Path(__file__).resolve().parents[2]
GOLD = sorted((ROOT / "examples" / "gold").glob("*/scene.dsl"))
TRACES = sorted((ROOT / "examples" / "traces").glob("*.trace"))
KINDS = ("bpe", "unigram")


def _corpus() -> list[str]:
    """Scenes in both forms, traces and a little prose: what the tokenizers learn from."""
    rng = random.Random(3)
    out = []
    for _ in range(150):
        scene = scene_dsl.canonicalize(sample_scene(rng))
        out += [scene_dsl.to_text(scene, form=f, inline=True) for f in ("block", "row")]
        out.append(trace_dsl.to_text(sample_trace(rng)))
    out += [p.read_text(encoding="utf-8") for p in TRACES]
    out += ["draw the scene for prompt number 12 please", "Trace for: Janet has 16 eggs. é ü"]
    return out


@cache
def hf_tokenizer(kind: str) -> PreTrainedTokenizerFast:
    """A byte-level BPE (GPT-2 style) or a Unigram with ▁ spaces and <0xNN> byte pieces
    (SentencePiece / Llama 2 style), trained on generated text."""
    tok = train_tokenizer(kind, _corpus(), vocab_size=700)
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token="<s>", eos_token="</s>", pad_token="<pad>"
    )


def tiny_model(arch: str, vocab_size: int, seed: int) -> Any:
    torch.manual_seed(seed)
    if arch == "llama":
        cfg = LlamaConfig(
            vocab_size=vocab_size,
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=1,
            num_attention_heads=2,
            num_key_value_heads=2,
            max_position_embeddings=512,
        )
        return LlamaForCausalLM(cfg).eval()
    return GPT2LMHeadModel(
        GPT2Config(vocab_size=vocab_size, n_embd=32, n_layer=1, n_head=2, n_positions=512)
    ).eval()


def test_read_vocabulary_gives_the_decoded_bytes() -> None:
    """Per-token texts joined are the tokenizer's own decode, for both tokenizer kinds."""
    for kind in KINDS:
        tok = hf_tokenizer(kind)
        voc = read_vocabulary(tok)
        assert voc.eos_id == tok.eos_token_id and tok.pad_token_id in voc.special_ids
        for text in ["[scene] [layout:x]\n- {op: init}", "Trace é ü 3"]:
            ids = tok.encode(text, add_special_tokens=False)
            joined = b"".join(voc.pieces[i] for i in ids).decode("utf-8")
            if voc.strips_leading_space and joined.startswith(" "):
                joined = joined[1:]
            assert joined == tok.decode(ids) == text, kind
    assert read_vocabulary(hf_tokenizer("unigram")).strips_leading_space
    assert not read_vocabulary(hf_tokenizer("bpe")).strips_leading_space


@pytest.mark.parametrize("numpy", [True, False])
def test_read_vocabulary_reads_a_byte_level_piece_outside_the_byte_alphabet_as_text(
    numpy: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Byte-level pieces are read in one pass over the vocabulary (through numpy, or without
    # it the byte alphabet's codec: dslkit.tokenizer needs no numpy); a piece with a character
    # that stands for no byte (here "€") sends the reading to the per-piece path, which
    # reads it as text, and every other piece the same as before.
    from tokenizers import Tokenizer, decoders, models

    if numpy:
        monkeypatch.setattr(vocab_module, "_NUMPY_FROM", 0)  # (numpy from the first piece)
    else:
        monkeypatch.setitem(sys.modules, "numpy", None)  # `import numpy` raises ImportError
    texts = {"a": b"a", "Ġb": b" b", "€": "€".encode(), "ĠĊ": b" \n", "c": b"c"}
    for pieces in (list(texts), [p for p in texts if p != "€"]):
        tok = Tokenizer(models.BPE(vocab={p: i for i, p in enumerate(pieces)}, merges=[]))
        tok.decoder = decoders.ByteLevel()
        assert read_vocabulary(tok).pieces == tuple(texts[p] for p in pieces), pieces


@settings(max_examples=60, deadline=None)
@given(
    pieces=st.lists(st.binary(min_size=1, max_size=6), min_size=1, max_size=40, unique=True),
    numpy=st.booleans(),
)
def test_read_vocabulary_texts_are_each_byte_level_piece_read_alone(
    pieces: list[bytes], numpy: bool
) -> None:
    # The byte-level reader cuts all texts apart at once (the bytes as characters, split on a
    # separator) and reads the pieces with a byte past ASCII one by one: whatever the bytes
    # (partial UTF-8 sequences, a sequence cut across two pieces, the separator's own
    # character), each text is its piece read alone, and the pieces come back exact.
    from tokenizers import Tokenizer, decoders, models

    alphabet = byte_alphabet()
    names = ["".join(alphabet[b] for b in piece) for piece in pieces]
    tok = Tokenizer(models.BPE(vocab={n: i for i, n in enumerate(names)}, merges=[]))
    tok.decoder = decoders.ByteLevel()
    # numpy from the first piece, however few; or no numpy (`import numpy` raises)
    with (
        mock.patch.object(vocab_module, "_NUMPY_FROM", 0)
        if numpy
        else mock.patch.dict(sys.modules, {"numpy": None})
    ):
        voc = read_vocabulary(tok)
    assert voc.token_texts == tuple(p.decode("utf-8", "surrogateescape") for p in pieces)
    assert voc.pieces == tuple(pieces)


def test_read_vocabulary_is_the_same_without_numpy(monkeypatch: pytest.MonkeyPatch) -> None:
    with_numpy = [read_vocabulary(hf_tokenizer(kind)) for kind in KINDS]
    vocab_module.forget_vocabularies()  # (read again, not the vocabularies kept above)
    monkeypatch.setitem(sys.modules, "numpy", None)
    without = [read_vocabulary(hf_tokenizer(kind)) for kind in KINDS]
    assert without == with_numpy
    assert all(a is not b for a, b in zip(without, with_numpy, strict=True))


def test_read_vocabulary_keeps_what_it_read_until_the_tokenizer_changes() -> None:
    # A processor made per generate call (its prompts' content changes) reads the vocabulary
    # once; a tokenizer that gains a token or names another eos is read anew.
    tok = PreTrainedTokenizerFast(
        tokenizer_object=train_tokenizer("bpe", _corpus()[:60], vocab_size=300),
        eos_token="</s>",
        pad_token="<pad>",
    )
    first = read_vocabulary(tok)
    assert read_vocabulary(tok) is first
    tok.add_tokens(["<region>"])
    grown = read_vocabulary(tok)
    assert grown.token_texts == (*first.token_texts, "<region>")
    tok.eos_token = "<pad>"
    assert read_vocabulary(tok).eos_id == tok.pad_token_id != first.eos_id
    again = read_vocabulary(tok)
    clear_caches()  # (a benchmark's cold start: read anew)
    assert read_vocabulary(tok) == again and read_vocabulary(tok) is not again


def _replay(proc: GrammarLogitsProcessor, tok: Any, texts: list[str], prompt_lens: list[int]):
    """Feed the tokens of ``texts`` through ``proc`` as one left-padded batch, as ``generate``
    calls it, and check that no token of a text is ever masked (nor eos at its end)."""
    targets = [[*tok.encode(t, add_special_tokens=False), tok.eos_token_id] for t in texts]
    width = max(prompt_lens)
    rows = [[tok.pad_token_id] * (width - n) + [tok.bos_token_id] * n for n in prompt_lens]
    for step in range(max(map(len, targets))):
        scores = proc(torch.tensor(rows), torch.zeros(len(rows), len(tok)))
        for b, target in enumerate(targets):
            if step < len(target):
                assert scores[b, target[step]] == 0, (texts[b], tok.decode(target[: step + 1]))
            rows[b].append(target[step] if step < len(target) else tok.pad_token_id)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("form", ["block", "row"])
def test_gold_scenes_are_never_masked(kind: str, form: str) -> None:
    tok = hf_tokenizer(kind)
    texts, contents = [], []
    for p in GOLD:
        texts.append(scene_dsl.to_text(scene_dsl.parse(p.read_text()), form=form, inline=True))
        contents.append(json.loads((p.parent / "content.json").read_text()))
    proc = GrammarLogitsProcessor(tok, "scene", form=form, content=contents)
    _replay(proc, tok, texts, [1 + i % 3 for i in range(len(texts))])


@pytest.mark.parametrize("kind", KINDS)
def test_scenes_of_the_cke_vocabulary_are_never_masked(kind: str) -> None:
    """The v2 contract (CKE's components, whole-object refs, display slugs), with content."""
    tok = hf_tokenizer(kind)
    rng = random.Random(11)
    scenes = [sample_scene(rng, "v2") for _ in range(10)]
    texts = [scene_dsl.canonical_text(s, inline=True, contract="v2") for s in scenes]
    contents = [sample_content(s, "v2", rng) for s in scenes]
    proc = GrammarLogitsProcessor(tok, "scene", contract="v2", content=contents)
    _replay(proc, tok, texts, [1 + i % 3 for i in range(len(texts))])


@pytest.mark.parametrize("kind", KINDS)
def test_example_traces_are_never_masked(kind: str) -> None:
    tok = hf_tokenizer(kind)
    texts = [p.read_text(encoding="utf-8") for p in TRACES]
    rng = random.Random(5)
    texts += [trace_dsl.to_text(sample_trace(rng)) for _ in range(8)]
    proc = GrammarLogitsProcessor(tok, "trace")
    _replay(proc, tok, texts, [2 + i % 4 for i in range(len(texts))])


@pytest.mark.parametrize("kind", KINDS)
def test_gsm8k_traces_are_never_masked(kind: str, gsm8k_train: Path) -> None:
    """Real material: the traces the converter makes from the first GSM8K problems (words
    and numbers nobody here chose, in tokens the tokenizer was not trained on)."""
    rows, _ = trace_rows(gsm8k_train, limit=60)
    assert len(rows) >= 50  # the converter turns nearly all of them into traces
    tok = hf_tokenizer(kind)
    proc = GrammarLogitsProcessor(tok, "trace")
    texts = [row.target for row in rows]
    _replay(proc, tok, texts, [1 + i % 5 for i in range(len(texts))])


class _Closer:
    """Stands in for a trained model's habit of finishing a value: a random model samples
    among hundreds of allowed name characters and writes ids until the budget runs out."""

    def __init__(self, tok: Any, bias: float = 3.0) -> None:
        texts = read_vocabulary(tok).texts()
        self.bias = torch.tensor([bias * any(c in t for c in "]}\n") for t in texts])

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        return scores + self.bias[: scores.shape[-1]]


@pytest.fixture(autouse=True)
def _one_thread():
    """Tiny models on a shared 2-core machine: one intra-op thread (see conftest)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _generate(arch: str, kind: str, language: str, n: int, budget: int, seed: int):
    tok = hf_tokenizer(kind)
    model = tiny_model(arch, len(tok), seed)
    rng = random.Random(seed)
    prompts = [f"draw {'the scene ' * rng.randint(0, 3)}{i}" for i in range(n)]
    contents = None
    if language == "scene":
        contents = [sample_content(sample_scene(rng), rng=rng) for _ in prompts]
    proc = GrammarLogitsProcessor(
        tok,
        language,
        content=contents,
        max_new_tokens=budget,  # type: ignore[arg-type]
    )
    tok.padding_side = "left"
    batch = tok(prompts, return_tensors="pt", padding=True)
    out = model.generate(
        **batch,
        do_sample=True,
        top_k=0,
        max_new_tokens=budget,
        logits_processor=LogitsProcessorList([_Closer(tok), proc]),
        pad_token_id=tok.pad_token_id,
        eos_token_id=tok.eos_token_id,
    )
    gen = out[:, batch["input_ids"].shape[1] :]
    texts = tok.batch_decode(gen, skip_special_tokens=True)
    return texts, contents, proc


@pytest.mark.parametrize(
    ("arch", "kind", "language"),
    [
        ("llama", "unigram", "scene"),
        ("gpt2", "bpe", "scene"),
        ("llama", "bpe", "trace"),
        ("gpt2", "unigram", "trace"),
    ],
)
def test_sampled_generations_parse_validate_and_bind(arch: str, kind: str, language: str) -> None:
    """100 sampled generations (4 batches of 25, left padded, prompts of different lengths)."""
    aside = 0
    for seed in range(4):
        texts, contents, proc = _generate(arch, kind, language, 25, 90, seed)
        for k, text in enumerate(texts):
            if language == "scene":
                # judged under the contract the processor decoded with (its default, v1)
                scene = scene_dsl.parse(text, contract="v1")
                assert contents is not None
                errors = _errors(scene_dsl.validate(scene, "v1"))
                errors += _errors(scene_dsl.bind(scene, contents[k], contract="v1").diagnostics)
                # a value error (a ref that does not resolve, an id named before any is
                # declared) only where the budget closed the program inside a value: the
                # check then steps aside and says so
                assert not errors or proc.stepped_aside[k], (text, errors)
                aside += bool(proc.stepped_aside[k])
            else:
                trace = trace_dsl.parse(text)
                assert not _errors(trace_dsl.validate(trace)), text
    # a random model rambles in ids until the budget closes the scene inside a ref; most rows
    # still finish with refs that resolve
    assert aside <= 40, aside


def _errors(diags: Any) -> list[Any]:
    return [d for d in diags if d.severity == "error"]


def test_greedy_rows_do_not_depend_on_their_batch() -> None:
    """Greedy decoding of a prompt alone and inside a left-padded batch gives the same text:
    the processor follows each row by its own generated ids."""
    tok = hf_tokenizer("bpe")
    model = tiny_model("llama", len(tok), 0)
    prompts = ["draw 1", "draw the scene the scene 2", "3"]
    tok.padding_side = "left"

    def run(ps: list[str]) -> list[str]:
        proc = GrammarLogitsProcessor(tok, "scene", max_new_tokens=60)
        batch = tok(ps, return_tensors="pt", padding=True)
        out = model.generate(
            **batch,
            do_sample=False,
            max_new_tokens=60,
            logits_processor=LogitsProcessorList([proc]),
            pad_token_id=tok.pad_token_id,
        )
        return tok.batch_decode(out[:, batch["input_ids"].shape[1] :], skip_special_tokens=True)

    together = run(prompts)
    alone = [run([p])[0] for p in prompts]
    assert together == alone
    for text in together:
        scene_dsl.parse(text)


def test_the_masker_is_saved_and_loaded_by_hash(tmp_path: Path) -> None:
    """A saved masker is found again by its (grammar, vocabulary) hash with its states."""
    tok = hf_tokenizer("bpe")
    proc = GrammarLogitsProcessor(tok, "trace", cache_dir=tmp_path)
    cached = proc.warm([p.read_text(encoding="utf-8") for p in TRACES])
    path = proc.save_cache()
    assert path.parent == tmp_path and path.is_file()
    clear_caches()  # as in a new process
    loaded = compiled_masker("trace", read_vocabulary(tok), cache_dir=tmp_path)
    assert loaded is not proc.masker and loaded.n_cached == cached
    # another grammar (scene) over the same vocabulary has another key
    other = compiled_masker("scene", read_vocabulary(tok), cache_dir=tmp_path)
    assert other.n_cached == 0


def test_the_cache_key_is_the_same_in_every_process() -> None:
    """A second process finds a saved masker only if it computes the same key: the scene key
    writes out the contract, whose frozensets a repr lists in the order of string hashes,
    which Python salts per process (PYTHONHASHSEED)."""
    import os
    import subprocess
    import sys

    code = (
        "from dslkit.tokenizer import read_vocabulary\n"
        "from dslkit.train.hf_decoding import cache_key\n"
        "from tokenizers import Tokenizer, models\n"
        "tok = Tokenizer(models.WordLevel({'[': 0, ']': 1, 'a': 2}, unk_token='['))\n"
        "print(cache_key('scene', read_vocabulary(tok)))\n"
    )
    keys = set()
    for seed in ("1", "2", "3"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        out = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        )
        keys.add(out.stdout.strip())
    assert len(keys) == 1 and len(keys.pop()) == 32


def test_rows_are_followed_by_their_ids_when_the_batch_is_reordered() -> None:
    """Beams reorder and repeat rows between steps: each row is still matched to the row its
    ids continue (not to the row at its position), so its mask is the one it has alone."""
    tok = hf_tokenizer("bpe")
    rng = random.Random(11)
    texts = [trace_dsl.to_text(sample_trace(rng)) for _ in range(2)]
    ids = [tok.encode(t, add_special_tokens=False) for t in texts]

    def blocked(rows: list[list[int]]) -> torch.Tensor:
        proc = GrammarLogitsProcessor(tok, "trace")
        for n in range(1, len(rows[0]) + 1):
            scores = proc(torch.tensor([r[:n] for r in rows]), torch.zeros(len(rows), len(tok)))
        return torch.isinf(scores)

    bos = tok.bos_token_id

    def differ(n: int) -> bool:  # the two rows alone have different masks after n ids
        return not torch.equal(blocked([[bos, *ids[0][:n]]]), blocked([[bos, *ids[1][:n]]]))

    k = 2  # rows that differ before their last id and after it
    while not (differ(k - 1) and differ(k)):
        k += 1
    a, b = [bos, *ids[0][:k]], [bos, *ids[1][:k]]
    for batch in ([b, a], [b, a, a]):  # the same size swapped, then one row repeated
        proc = GrammarLogitsProcessor(tok, "trace")
        for n in range(1, k + 1):  # both rows in order, all but their last id
            proc(torch.tensor([a[:n], b[:n]]), torch.zeros(2, len(tok)))
        scores = proc(torch.tensor(batch), torch.zeros(len(batch), len(tok)))
        want = torch.cat([blocked([r]) for r in batch])
        assert torch.equal(torch.isinf(scores), want)


@pytest.mark.parametrize(
    ("kwargs", "error", "says"),
    [
        ({"language": "scenes"}, ValueError, "language must be 'scene' or 'trace', not 'scenes'"),
        ({"form": "rows"}, ValueError, "form must be 'block' or 'row', not 'rows'"),
        ({"content": {"title": "x"}}, TypeError, "one content.json per prompt"),
        ({"contract": "v9"}, scene_dsl.ContractError, "no bundled contract named 'v9'"),
    ],
)
def test_bad_arguments_get_a_clear_error(kwargs: dict, error: type, says: str) -> None:
    with pytest.raises(error, match=re.escape(says)):
        GrammarLogitsProcessor(hf_tokenizer("bpe"), **kwargs)


def test_a_processor_per_generate_call_reuses_what_the_first_found() -> None:
    # The vocabulary, the masker and the tokens allowed first only because the decoder drops
    # their leading space are found once for a tokenizer and grammar, not per processor.
    tok = hf_tokenizer("unigram")
    first = GrammarLogitsProcessor(tok, "scene")
    again = GrammarLogitsProcessor(tok, "scene", content=[None])
    assert again.vocabulary is first.vocabulary and again.masker is first.masker
    assert first._first and again._first is first._first
