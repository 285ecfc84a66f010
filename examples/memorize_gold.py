"""The memorisation gate on the gold pack, end to end (issue 6 "Proof").

Materialise gold rows (both prompt surfaces, block-form targets or ``--form row``, all in train), QC them, build a
scene tokenizer, pack, train with ``examples/configs/memorize_gold.toml`` and check greedy exact
match again with :mod:`dslkit.train.decoding`, raw and grammar-constrained, reported separately::

    python examples/memorize_gold.py [--gold examples/gold] [--cases N] [--key=value ...]

Prints the parameter count, wall time, tokens/s (also in ``<out_dir>/log.jsonl``) and exact match.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from a checkout
    sys.path.insert(0, str(ROOT))

if TYPE_CHECKING:
    from scene_dsl.automaton import SceneForm

CONFIG = ROOT / "examples" / "configs" / "memorize_gold.toml"


def run(
    gold: str | Path = ROOT / "examples" / "gold",
    *,
    config: str | Path = CONFIG,
    overrides: Sequence[str] = (),
    cases: int | None = None,
    vocab_size: int = 1600,
    form: SceneForm = "block",
) -> dict[str, Any]:
    """Materialise, QC, tokenize, pack, fit and verify.

    Args:
        gold: gold pack folder (or any folder of ``<case>/scene.dsl`` + ``content.json``).
        config: the run config.
        overrides: ``--key=value`` overrides of the config.
        cases: use only the first N cases (smoke tests).
        vocab_size: tokenizer size (reserved structure + learned payload BPE).
        form: scene target form (``"block"`` or ``"row"``); constrained decoding follows it.

    Returns:
        A summary dict: rows, form, params, seconds, tokens_per_s, steps, stop_reason, exact
        match (loop metric, raw decoding, constrained decoding, constrained with budget
        steering).
    """
    import dataclasses

    import torch
    from dslkit.tokenizer.corpus import default_corpus
    from dslkit.train.config import load_config
    from dslkit.train.data import materialize, pack, qc, write_jsonl
    from dslkit.train.decoding import Decoder
    from dslkit.train.loop import fit

    from dslkit import tokenizer

    t0 = time.perf_counter()
    rows = list(materialize(gold_dir=gold, gsm8k=None, fractions=(("train", 1.0),), form=form).rows)
    if cases is not None:
        keep = sorted({r.source for r in rows})[:cases]
        rows = [r for r in rows if r.source in keep]
    corpus = [
        *default_corpus("scene", n_generated=500),
        *(r.target for r in rows),
        *(r.prompt for r in rows),
    ]
    tok = tokenizer.build("scene", corpus=corpus, vocab_size=vocab_size)
    cfg = load_config(config, list(overrides))
    out = Path(cfg.out_dir)
    report = qc(rows, tokenizer=tok, ctx=cfg.model.block_size)
    print(report.summary())
    report.raise_if_failed()
    write_jsonl(rows, out / "rows.jsonl")
    tok.save(out / "tokenizer")
    packed = pack(rows, tok)
    packed.save(cfg.data.train)
    cfg = dataclasses.replace(cfg, stop_ids=(tok.eos_id,))
    print(
        f"rows={len(rows)} vocab={tok.vocab_size} longest_row={packed.max_positions() + 1} tokens "
        f"target_tokens={len(packed.target_tokens)}"
    )
    t_fit = time.perf_counter()
    result = fit(cfg, packed)
    fit_s = time.perf_counter() - t_fit
    model = result.model
    dec = Decoder(tok, "scene", form=form)
    torch.set_num_threads(max(cfg.num_threads, 1))
    prompts = [list(packed.prompt(i)) for i in range(len(packed))]
    budget = int(max(len(packed.target(i)) for i in range(len(packed)))) + 8
    raw = dec.generate_batch(model, prompts, max_new_tokens=budget)
    con = dec.generate_batch(model, prompts, constrained=True, max_new_tokens=budget)
    # budget steering must never change an output that fits the budget (here: 8 tokens spare)
    steered = dec.generate_batch(
        model, prompts, constrained=True, max_new_tokens=budget, steer_budget=True
    )
    summary = {
        "rows": len(rows),
        "form": form,  # benchmarks/decode_mask.py decodes this run in the same form
        "params": model.num_params(),
        "steps": result.step,
        "stop_reason": result.stop_reason,
        "fit_seconds": round(fit_s, 1),
        "total_seconds": round(time.perf_counter() - t0, 1),
        "tokens_per_s": round(result.tokens_per_s),
        "loop_train_exact": result.evals[-1].get("train_exact") if result.evals else None,
        "raw_exact": sum(g.text == r.target for g, r in zip(raw, rows, strict=True)) / len(rows),
        "constrained_exact": sum(g.text == r.target for g, r in zip(con, rows, strict=True))
        / len(rows),
        "steered_exact": sum(g.text == r.target for g, r in zip(steered, rows, strict=True))
        / len(rows),
        "log": str(out / "log.jsonl"),
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return summary


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--gold", default=str(ROOT / "examples" / "gold"))
    p.add_argument("--config", default=str(CONFIG))
    p.add_argument("--cases", type=int, default=None)
    p.add_argument("--form", choices=("block", "row"), default="block")
    args, overrides = p.parse_known_args(argv)
    summary = run(
        args.gold, config=args.config, overrides=overrides, cases=args.cases, form=args.form
    )
    print(json.dumps(summary, indent=2))
    return 0 if summary["raw_exact"] == 1.0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
