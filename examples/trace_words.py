"""Word problems -> traces, end to end: does a small model write traces the solver accepts?

Draw rows with :func:`dslkit.train.synth_traces.synth_traces` (hidden: phrasings and a number range
training never sees), build a trace tokenizer on the training rows, train with
``examples/configs/trace_words.toml``, decode the probe cases greedy and grammar-constrained, and
score each trace with the solver (correct = solves to the row's answer)::

    python examples/trace_words.py [--rows N] [--probe N] [--key=value ...]

Prints solver-correct per split for both decodings, parameters, wall time and tokens/s.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from a checkout
    sys.path.insert(0, str(ROOT))

CONFIG = ROOT / "examples" / "configs" / "trace_words.toml"


def _correct(text: str, answer: str | None) -> bool:
    from dslkit.compilers.trace_solver import solve

    import trace_dsl

    res = trace_dsl.parse(text, errors="collect")
    if not res.ok or res.trace is None or answer is None:
        return False
    out = solve(res.trace)
    return out.ok and out.answer is not None and Fraction(out.answer) == Fraction(answer)


def run(
    *, rows: int = 6000, probe: int = 40, overrides: Sequence[str] = (), config: Path = CONFIG
) -> dict[str, Any]:
    """Train and probe; returns ``{decoding: {split: solver-correct rate}}`` plus run facts."""
    import torch
    from dslkit.train import data
    from dslkit.train.config import load_config
    from dslkit.train.decoding import Decoder
    from dslkit.train.loop import fit
    from dslkit.train.packing import PackedRows
    from dslkit.train.synth_traces import TraceSynthSettings, synth_traces, trace_leakage

    from dslkit import tokenizer

    t0 = time.perf_counter()
    all_rows = synth_traces(TraceSynthSettings(n_rows=rows))
    assert not trace_leakage(all_rows), "held-out traces leak into train"
    train = [r for r in all_rows if r.split == "train"]
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

    res = fit(cfg, PackedRows.load(cfg.data.train), PackedRows.load(cfg.data.dev))
    model = res.model.eval()
    decoder = Decoder(tok, "trace")
    scores: dict[str, dict[str, float]] = {}
    for name, constrained in (("greedy", False), ("constrained", True)):
        scores[name] = {}
        for split in ("train", "dev", "test", "hidden"):
            cases = [r for r in all_rows if r.split == split][:probe]
            longest = max(len(tok.encode(r.target)) for r in cases) + 8
            with torch.no_grad():
                gens = decoder.generate_batch(
                    model,
                    [decoder.prompt_ids(r.prompt) for r in cases],
                    constrained=constrained,
                    max_new_tokens=longest,
                )
            ok = sum(_correct(g.text, r.answer) for g, r in zip(gens, cases, strict=True))
            scores[name][split] = ok / len(cases)
    return {
        "scores": scores,
        "params": model.num_params(),
        "train_rows": len(train),
        "seconds": time.perf_counter() - t0,
        "train_tokens_per_s": res.tokens_per_s,
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``--rows``, ``--probe`` and ``--key=value`` config overrides."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=6000)
    p.add_argument("--probe", type=int, default=40, help="cases per split")
    args, overrides = p.parse_known_args(argv)
    out = run(rows=args.rows, probe=args.probe, overrides=overrides)
    print(
        f"{out['params']:,} parameters, {out['train_rows']} training rows, "
        f"{out['seconds']:.0f}s, {out['train_tokens_per_s']:.0f} train tokens/s"
    )
    for name, by_split in out["scores"].items():
        print(f"{name:>12}: " + ", ".join(f"{k} {v:.0%}" for k, v in by_split.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
