"""``python -m dslkit.train probe | report | repeat | demo``: the decision-surface commands.

:func:`register` adds them to an argparse sub-parser set; ``dslkit.train.cli`` lists this module
beside itself (see :mod:`dslkit.cli`), and this module imports nothing from it.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path
from typing import Any

from dslkit.errors import ContractError

__all__ = ["register"]


def _add_probe(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "target",
        type=Path,
        help="run folder (uses its model.safetensors and tokenizer/) or a checkpoint",
    )
    p.add_argument(
        "--cases", type=Path, required=True, help="probe contract (.jsonl, see train.probe)"
    )
    p.add_argument(
        "--tokenizer", type=Path, default=None, help="tokenizer folder (default: <run>/tokenizer)"
    )
    p.add_argument("--constrained", action="store_true", help="grammar-constrained decoding")
    p.add_argument(
        "--no-check-values",
        dest="check_values",
        action="store_false",
        help="with --constrained, do not check scene values the grammar cannot (content refs "
        "that resolve in the case's content, ids declared before use)",
    )
    p.add_argument(
        "--no-steer-budget",
        dest="steer_budget",
        action="store_false",
        help="with --constrained, let a generation run out of budget instead of steering it "
        "to finish in time",
    )
    p.add_argument("--max-new-tokens", type=int, default=512)
    p.add_argument(
        "--name", default=None, help="report name under <run>/probe/ (default: greedy|constrained)"
    )
    p.add_argument("--json", action="store_true", help="print the scoreboards as JSON")


def _run_probe(args: argparse.Namespace) -> int:
    import torch
    from dslkit.train import probe
    from dslkit.train.checkpoint import find_model, load_model
    from dslkit.train.decoding import Decoder
    from dslkit.train.languages import LANGUAGES

    from dslkit import tokenizer

    target: Path = args.target
    run_dir = target if target.is_dir() else target.parent
    ckpt = find_model(target) if target.is_dir() else target
    if not ckpt.exists():
        raise ContractError(f"no checkpoint at {ckpt}")
    tok_dir = args.tokenizer or run_dir / "tokenizer"
    if not tok_dir.is_dir():
        raise ContractError(f"no tokenizer folder at {tok_dir}: pass --tokenizer")
    model = load_model(ckpt).eval()
    cases = probe.load_cases(args.cases)
    tok = tokenizer.load(tok_dir)
    label = "constrained decoding" if args.constrained else "greedy decoding"
    name = args.name or ("constrained" if args.constrained else "greedy")
    outputs: dict[str, Any] = {}
    for kind in LANGUAGES:  # one decoder per language: each has its own grammar mask
        kind_cases = [c for c in cases.cases if c.kind == kind]
        if not kind_cases:
            continue
        decoder = Decoder(tok, kind)
        with torch.no_grad():
            gens = decoder.generate_batch(
                model,
                [decoder.prompt_ids(c.prompt) for c in kind_cases],
                constrained=args.constrained,
                max_new_tokens=args.max_new_tokens,
                steer_budget=args.steer_budget,
                contents=[c.content for c in kind_cases],
                check_values=args.check_values,
            )
        outputs.update({c.prompt: g for c, g in zip(kind_cases, gens, strict=True)})
    report = probe.run(outputs.__getitem__, cases, label=label)
    path = report.save(run_dir / "probe" / f"{name}.json")
    if args.json:
        print(
            json.dumps(
                {
                    # None, like "trace", when the contract has no scene cases
                    "scene": {k: v.to_dict() for k, v in report.scene.items() if v.n} or None,
                    "trace": report.trace.to_dict() if report.trace else None,
                    "findings": [f.to_dict() for f in report.findings],
                },
                indent=1,
            )
        )
    else:
        print(_format(report))
        print(f"wrote {path}")
    return 0


def _format(report: Any) -> str:
    from dslkit.train.probe import RATE_NAMES

    lines = [
        f"probe {report.probe_name} v{report.probe_version} ({report.probe_hash}) · {report.label}"
    ]
    modes = [m for m, board in report.scene.items() if board.n]  # no table for 0 cases
    if modes:
        lines.append(f"{'metric':<26}" + "".join(f"{m:>12}" for m in modes))
        for rate in (*RATE_NAMES, "parse_rate"):
            cells = []
            for m in modes:
                v = report.scene[m].rate(rate)
                cells.append(f"{'n/a' if v is None else f'{v:.1%}':>12}")
            lines.append(f"{rate:<26}" + "".join(cells))
    if report.trace:
        t = report.trace
        lines.append(
            f"traces: parse {t.parse_rate:.1%} valid {t.valid_trace_rate:.1%} "
            f"accuracy {t.accuracy:.1%} reward {t.mean_reward:.3f} {t.status_counts}"
        )
    lines += [f"[{f.severity}] {f.message}" for f in report.findings]
    return "\n".join(lines)


def _add_report(p: argparse.ArgumentParser) -> None:
    p.add_argument("run_dir", type=Path, help="run folder")
    p.add_argument("--baseline", type=Path, default=None, help="baseline run folder")


def _run_report(args: argparse.Namespace) -> int:
    from dslkit.train import report

    path = report.write(args.run_dir, baseline=args.baseline)
    data = json.loads((args.run_dir / "report.json").read_text(encoding="utf-8"))
    d = data["decision"]
    print(f"wrote {path}")
    print(f"decision: {d['decision']} ({d['colour']})")
    for reason in d["reasons"]:
        print(f"  - {reason}")
    return 0


def _add_repeat(p: argparse.ArgumentParser) -> None:
    p.add_argument("config", type=Path, help="run config (.toml or .json) with packed data paths")
    # Not required=True: after CONFIG the overrides' REMAINDER swallows every argument, so in the
    # documented order (`repeat CONFIG --seeds 7,11`) argparse never sees --seeds;
    # _run_repeat takes it out of the overrides instead.
    p.add_argument("--seeds", help="comma-separated seeds, e.g. 7,11,13 (required)")
    p.add_argument(
        "--demo",
        action="store_true",
        help="run the whole demo (python -m dslkit.train demo) per seed with CONFIG as its config "
        "(e.g. examples/configs/demo.toml): same rows and probe, model seed varied; prints the "
        "band of exact per split (hidden included)",
    )
    p.add_argument(
        "--reuse",
        action="store_true",
        help="analyse a seed's finished run (log.jsonl ends with 'end') instead of training it "
        "again: seeds trained side by side, or an interrupted repeat",
    )
    p.add_argument("overrides", nargs=argparse.REMAINDER, metavar="--key=value")


def _pop_option(args: list[str], name: str) -> tuple[str | None, list[str]]:
    """``(value, rest)``: the last ``name VALUE`` or ``name=VALUE`` in ``args``, and the others."""
    value, rest, i = None, [], 0
    while i < len(args):
        arg = args[i]
        if arg == name and i + 1 < len(args):
            value, i = args[i + 1], i + 2
            continue
        if arg.startswith(name + "="):
            value = arg[len(name) + 1 :]
        else:
            rest.append(arg)
        i += 1
    return value, rest


def _pop_flag(args: list[str], name: str) -> tuple[bool, list[str]]:
    """``(present, rest)``: whether the bare flag ``name`` is in ``args``, and the others."""
    return name in args, [a for a in args if a != name]


def _run_repeat(args: argparse.Namespace) -> int:
    from dslkit.train import repeat
    from dslkit.train.config import ConfigError, load_config

    seeds_text, overrides = _pop_option(list(args.overrides), "--seeds")
    seeds_text = seeds_text if seeds_text is not None else args.seeds
    if seeds_text is None:
        raise ConfigError("--seeds is required: comma-separated integers, e.g. --seeds 7,11,13")
    try:
        seeds = [int(s) for s in seeds_text.split(",") if s.strip()]
    except ValueError:
        raise ConfigError(f"--seeds must be comma-separated integers, got {seeds_text!r}") from None
    demo, overrides = _pop_flag(overrides, "--demo")
    demo = demo or bool(getattr(args, "demo", False))
    reuse, overrides = _pop_flag(overrides, "--reuse")
    reuse = reuse or bool(getattr(args, "reuse", False))
    train = None
    if demo:
        from dslkit.train.demo import DemoSettings, run_demo

        out_dir, overrides = _pop_option(overrides, "--out_dir")
        scenes, overrides = _pop_option(overrides, "--scenes")
        overrides = [*overrides, f"--out_dir={out_dir or 'runs/demo_repeat'}"]
        base = DemoSettings(config=str(args.config))
        if scenes is not None:
            base = dataclasses.replace(base, n_scenes=int(scenes))

        def train(cfg: Any) -> None:
            # the demo draws its own rows (data seed fixed) and probes them; the config seed
            # varies the model's initialisation and batch order
            kept = tuple(o for o in overrides if not o.startswith(("--out_dir=", "--seed=")))
            run_demo(
                dataclasses.replace(
                    base, out_dir=cfg.out_dir, overrides=(*kept, f"--seed={cfg.seed}")
                )
            )

    config = load_config(args.config, overrides)
    rep = repeat.run(config, seeds, train=train, progress=print, reuse=reuse)
    for s in rep.seeds:
        print(
            f"seed {s.seed}: final loss {s.final_loss}, late var {s.late_loss_variance}, "
            f"plateau {s.plateau}"
        )
    bands = {k: v for k, v in rep.band.items() if k not in repeat.BAND_STATS and v.get("count")}
    for name, b in bands.items():
        print(
            f"{name}: mean {b['mean']:.1%}, std {b['std']:.1%}, "
            f"band {b['min']:.1%}..{b['max']:.1%} over {b['count']} seeds"
        )
    print(f"wrote {Path(config.out_dir) / 'repeat.json'}")
    return 0


def _add_demo(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--config",
        type=Path,
        default=None,
        help="run config (default examples/configs/demo.toml; the long run: demo_long.toml)",
    )
    p.add_argument("--scenes", type=int, default=None, help="scenes to draw (default 40000)")
    p.add_argument(
        "--form",
        choices=("block", "row"),
        default=None,
        help="scene target form of the rows (default block: the prompt's skeleton, refs filled in)",
    )
    p.add_argument("--out-dir", default=None, help="output folder (default runs/demo)")
    p.add_argument(
        "overrides",
        nargs=argparse.REMAINDER,
        metavar="--key=value",
        help="config overrides for the demo run, e.g. --max_steps=50",
    )


def _run_demo(args: argparse.Namespace) -> int:
    from dslkit.train.demo import DemoSettings, run_demo

    settings = DemoSettings(overrides=tuple(args.overrides))
    changes: dict[str, Any] = {}
    if args.config is not None:
        changes["config"] = str(args.config)
    if args.scenes is not None:
        changes["n_scenes"] = args.scenes
    if args.out_dir is not None:
        changes["out_dir"] = args.out_dir
    if args.form is not None:
        changes["form"] = args.form
    run_demo(dataclasses.replace(settings, **changes))
    return 0


def register(subparsers: Any) -> None:
    """Add ``probe``, ``report``, ``repeat`` and ``demo`` to an argparse sub-parser set."""
    for name, text, add_arguments, run in (
        ("probe", "probe a run or checkpoint with a probe contract", _add_probe, _run_probe),
        ("report", "write a run's HTML report and decision", _add_report, _run_report),
        (
            "repeat",
            "train one config over several seeds: the variance band",
            _add_repeat,
            _run_repeat,
        ),
        ("demo", "the end-to-end demo (make demo)", _add_demo, _run_demo),
    ):
        p = subparsers.add_parser(name, help=text, description=text)
        add_arguments(p)
        p.set_defaults(func=run)
