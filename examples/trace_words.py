"""Word problems -> traces, end to end: does a small model write traces the solver accepts?

Draw rows with :func:`dslkit.train.synth_traces.synth_traces` (hidden: clause variants,
variant combinations and a number range training never sees), build a trace tokenizer on the
training rows, train with ``examples/configs/trace_words.toml``, decode the probe cases greedy
and grammar-constrained, and score each trace with the solver (correct = solves to the row's
answer; never a string match)::

    python examples/trace_words.py [--rows N] [--probe N] [--gsm8k N] [--beyond N] [--key=value ...]

Prints solver-correct per split for both decodings, hidden per held-out kind, two diagnostics
that are not targets (``beyond``: numbers with more digits than any training number; GSM8K:
real questions the model never trains on), parameters, wall time and tokens/s.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from collections import Counter
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from a checkout
    sys.path.insert(0, str(ROOT))

CONFIG = ROOT / "examples" / "configs" / "trace_words.toml"
# GSM8K splits probed by default, where present: the shared data ships the train split only;
# the test split is grade_school_math/data/test.jsonl of github.com/openai/grade-school-math
# (pass it with --gsm8k-file). The model never trains on either.
GSM8K_DIR = ROOT.parent / "shared" / "data" / "gsm8k"
GSM8K = (GSM8K_DIR / "test.jsonl", GSM8K_DIR / "train.jsonl")


def gsm8k_label(path: Path) -> str:
    """How a GSM8K file is named in the report: its split, from the file name."""
    return f"GSM8K {path.stem} split (never trained on)"


def _correct(text: str, answer: str | None) -> bool:
    from dslkit.compilers.trace_solver import solve

    import trace_dsl

    res = trace_dsl.parse(text, errors="collect")
    if not res.ok or res.trace is None or answer is None:
        return False
    out = solve(res.trace)
    return out.ok and out.answer is not None and Fraction(out.answer) == Fraction(answer)


def gsm8k_cases(path: Path, n: int) -> list[tuple[str, str]]:
    """The first ``n`` GSM8K records as (question, gold answer) pairs ("#### 72" -> "72")."""
    out: list[tuple[str, str]] = []
    if n <= 0 or not path.is_file():
        return out
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if not line.strip():
                continue
            record = json.loads(line)
            gold = record["answer"].rpartition("####")[2].strip().replace(",", "")
            out.append((record["question"], gold))
            if len(out) == n:
                break
    return out


def _decode(
    decoder: Any, model: Any, prompts: Sequence[str], constrained: bool, budget: int
) -> list[str]:
    import torch

    with torch.no_grad():
        gens = decoder.generate_batch(
            model,
            [decoder.prompt_ids(p) for p in prompts],
            constrained=constrained,
            max_new_tokens=budget,
        )
    return [g.text for g in gens]


def run(
    *,
    rows: int = 60000,
    probe: int = 100,
    init_order: str = "question",
    unknown_words: float | None = None,
    gsm8k: int = 0,
    beyond: int = 0,
    overrides: Sequence[str] = (),
    config: Path = CONFIG,
    gsm8k_paths: Sequence[Path] = GSM8K,
) -> dict[str, Any]:
    """Train and probe.

    Args:
        rows: rows to draw (all splits).
        probe: cases per split.
        init_order: the trace policy's init order (``dslkit.train.synth_traces.INIT_ORDERS``).
        unknown_words: share of training rows with made-up words in one sentence (None: the
            generator's default, ``TraceSynthSettings.unknown_words``).
        gsm8k: GSM8K questions to probe (constrained decoding; 0: none).
        beyond: rows with numbers longer than training's to probe (0: none).
        overrides: ``--key=value`` config overrides.
        config: the run config.
        gsm8k_paths: GSM8K JSONL files; each present one is probed with ``gsm8k`` questions.

    Returns:
        ``scores`` (``{decoding: {split: solver-correct rate}}``), ``hidden_modes``
        (constrained, per held-out kind: ``(correct, cases)``), ``failures`` (constrained, per
        split and per held-out kind: failure class -> cases, ``trace_failure``), ``beyond``
        (``(correct, cases)``) and ``gsm8k`` (per probed file's :func:`gsm8k_label`:
        ``(correct, cases, too_long)``) plus run facts.
    """
    from dslkit.train import data
    from dslkit.train.config import load_config
    from dslkit.train.decoding import Decoder
    from dslkit.train.demo import StageClock
    from dslkit.train.loop import fit
    from dslkit.train.packing import PackedRows
    from dslkit.train.synth_traces import (
        TraceSynthSettings,
        beyond_rows,
        synth_traces,
        trace_failure,
        trace_leakage,
    )

    from dslkit import tokenizer

    clock = StageClock()
    t0 = clock.start
    settings = TraceSynthSettings(n_rows=rows, init_order=init_order)
    if unknown_words is not None:
        settings = dataclasses.replace(settings, unknown_words=unknown_words)
    clock.say(
        f"1/4 drawing {rows} word problems with their traces (hidden: held-out phrasings, numbers)"
    )
    all_rows = synth_traces(settings)
    leaks = trace_leakage(all_rows)
    if leaks:
        raise SystemExit("held-out traces leak into train:\n" + "\n".join(leaks[:10]))
    train = [r for r in all_rows if r.split == "train"]
    clock.say(
        "    "
        + ", ".join(f"{k} {n}" for k, n in Counter(r.split for r in all_rows).items())
        + f"; leakage check: none ({clock.lap():.1f}s)"
    )
    clock.say("2/4 building the trace tokenizer on the training rows")
    tok = tokenizer.build("trace", corpus=[t for r in train for t in (r.prompt, r.target)])
    cfg = load_config(config, list(overrides))
    out = Path(cfg.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    cfg = load_config(
        config,
        [f"--data.train={out / 'train.npz'}", f"--data.dev={out / 'dev.npz'}", *overrides],
    )
    data.pack(train, tok).save(cfg.data.train)
    data.pack([r for r in all_rows if r.split == "dev"][:128], tok).save(cfg.data.dev)
    clock.say(f"    vocab {tok.vocab_size} ({clock.lap():.1f}s)")
    clock.say(f"3/4 training: {cfg.describe()}")
    res = fit(cfg, PackedRows.load(cfg.data.train), PackedRows.load(cfg.data.dev))
    trained = time.perf_counter()
    clock.say(f"    {res.step} steps, train loss {res.train_loss:.2g} ({clock.lap():.1f}s)")
    model = res.model.eval()
    decoder = Decoder(tok, "trace")
    longest = max(len(tok.encode(r.target)) for r in all_rows) + 8
    scores: dict[str, dict[str, float]] = {}
    modes: dict[str, list[int]] = {}
    failures: dict[str, dict[str, int]] = {}
    for name, constrained in (("greedy", False), ("constrained", True)):
        scores[name] = {}
        clock.say(f"4/4 probing {probe} cases per split, {name} decoding, scored by the solver")
        for split in ("train", "dev", "test", "hidden"):
            cases = [r for r in all_rows if r.split == split][:probe]
            texts = _decode(decoder, model, [r.prompt for r in cases], constrained, longest)
            ok = [_correct(t, r.answer) for t, r in zip(texts, cases, strict=True)]
            scores[name][split] = sum(ok) / len(cases)
            clock.say(f"    {split}: {scores[name][split]:.0%} ({clock.lap():.1f}s)")
            if constrained:
                found = [trace_failure(t, r) for t, r in zip(texts, cases, strict=True)]
                failures[split] = dict(Counter(found).most_common())
                if split == "hidden":  # and per held-out kind: what each one breaks
                    for mode in sorted({r.source.rsplit(":", 1)[1] for r in cases}):
                        picked = [f for f, r in zip(found, cases, strict=True) if r.source.endswith(f":{mode}")]  # fmt: skip
                        failures[f"hidden {mode}"] = dict(Counter(picked).most_common())
            if split == "hidden" and constrained:
                for r, good in zip(cases, ok, strict=True):
                    m = modes.setdefault(r.source.rsplit(":", 1)[1], [0, 0])
                    m[0] += good
                    m[1] += 1
    result: dict[str, Any] = {
        "scores": scores,
        "hidden_modes": {k: tuple(v) for k, v in sorted(modes.items())},
        "failures": failures,
        "params": model.num_params(),
        "train_rows": len(train),
        "unknown_word_rows": sum(r.source.endswith(":unknown-words") for r in train),
        "rows_per_kind": dict(Counter(r.source.split(":")[3] for r in train)),
        "train_seconds": trained - t0,
        "train_tokens_per_s": res.tokens_per_s,
    }
    if beyond:
        extra = beyond_rows(beyond, seed=1, init_order=init_order)
        texts = _decode(decoder, model, [r.prompt for r in extra], True, longest)
        result["beyond"] = (
            sum(_correct(t, r.answer) for t, r in zip(texts, extra, strict=True)),
            len(extra),
        )
    result["gsm8k"] = {}
    for path in gsm8k_paths if gsm8k else ():
        cases = gsm8k_cases(path, gsm8k)
        if not cases:  # a split that is not on this machine
            continue
        room = model.config.block_size - longest
        fits = [(q, a) for q, a in cases if len(decoder.prompt_ids(data.trace_prompt(q))) <= room]
        texts = _decode(decoder, model, [data.trace_prompt(q) for q, _ in fits], True, longest)
        correct = sum(_correct(t, a) for t, (_, a) in zip(texts, fits, strict=True))
        result["gsm8k"][gsm8k_label(path)] = (correct, len(cases), len(cases) - len(fits))
    result["seconds"] = time.perf_counter() - t0
    return result


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``--rows``, ``--probe``, ``--gsm8k``, ``--beyond`` and ``--key=value`` overrides."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=60000, help="rows to draw, all splits")
    p.add_argument("--probe", type=int, default=100, help="cases per split")
    p.add_argument(
        "--init-order", default="question", help="the trace's init order: question or role"
    )
    p.add_argument(
        "--unknown-words",
        type=float,
        default=None,
        help="share of training rows with made-up words in one sentence (default: the "
        "generator's, 0.25)",
    )
    p.add_argument(
        "--gsm8k", type=int, default=50, help="GSM8K questions to probe per file (0: none)"
    )
    p.add_argument(
        "--gsm8k-file",
        type=Path,
        action="append",
        help="a GSM8K JSONL file to probe (repeatable; default: the test and train splits "
        "under shared/data/gsm8k, where present)",
    )
    p.add_argument(
        "--beyond", type=int, default=20, help="rows with 4-digit numbers to probe (0: none)"
    )
    args, overrides = p.parse_known_args(argv)
    out = run(
        rows=args.rows,
        probe=args.probe,
        init_order=args.init_order,
        unknown_words=args.unknown_words,
        gsm8k=args.gsm8k,
        beyond=args.beyond,
        overrides=overrides,
        gsm8k_paths=args.gsm8k_file or GSM8K,
    )
    print(
        f"{out['params']:,} parameters, {out['train_rows']} training rows "
        f"({out['unknown_word_rows']} with made-up words), "
        f"{out['seconds']:.0f}s in all ({out['train_seconds']:.0f}s data + training), "
        f"{out['train_tokens_per_s']:.0f} train tokens/s"
    )
    for name, by_split in out["scores"].items():
        print(f"{name:>12}: " + ", ".join(f"{k} {v:.0%}" for k, v in by_split.items()))
    print(
        "hidden by what is held out (constrained): "
        + ", ".join(f"{k} {c}/{n}" for k, (c, n) in out["hidden_modes"].items())
    )
    print("failures (constrained):")
    for split, classes in out["failures"].items():
        print(f"{split:>12}: " + ", ".join(f"{k} {n}" for k, n in classes.items()))
    if "beyond" in out:
        c, n = out["beyond"]
        print(
            f"beyond (4-digit numbers, more digits than any training number; not a target): {c}/{n}"
        )
    if args.gsm8k and not out["gsm8k"]:
        print("GSM8K: none of the files is on this machine: " + ", ".join(map(str, args.gsm8k_file or GSM8K)))  # fmt: skip
    for label, (c, n, long) in out["gsm8k"].items():
        print(
            f"{label}: {c}/{n} solver-correct ({c / max(n, 1):.0%}), constrained; "
            f"{long} longer than the context"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
