"""Training corpora: read corpus files, or the default corpus (gold pack plus generated programs).

The default scene corpus is the gold pack's scenes (both forms) and prompts plus generated
scenes. Generated refs reuse few words, so payload merges stay few; train on materialised rows
(``--corpus rows.jsonl``) for a tokenizer that has seen real content paths.

Scenes are drawn with ``scene_dsl.strategies.sample_scene`` (valid, canonical, seeded) and printed
in both forms and both surfaces (file: newlines; training row: single spaces). Traces come from
``examples/traces`` plus ``trace_dsl.strategies.sample_trace`` (seeded, plain ``random``; no
hypothesis needed), printed with ``trace_dsl.to_text``.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from pathlib import Path

from dslkit.tokenizer.codes import fail

from dslkit import jsonio
from dslkit.errors import InputError

__all__ = [
    "EXAMPLES_DIR",
    "default_corpus",
    "gold_prompts",
    "gold_scenes",
    "gold_traces",
    "read_corpus",
    "read_rows",
    "sample_scene_texts",
    "sample_trace_texts",
]

EXAMPLES_DIR = Path(__file__).resolve().parents[1] / "examples"


def gold_scenes(examples: Path = EXAMPLES_DIR) -> list[str]:
    """Texts of the bundled gold pack (``examples/gold/*/scene.dsl`` and ``scene.row.dsl``)."""
    paths = sorted((examples / "gold").glob("*/scene.dsl")) + sorted(
        (examples / "gold").glob("*/scene.row.dsl")
    )
    return [p.read_text("utf-8") for p in paths]


def gold_prompts(examples: Path = EXAMPLES_DIR) -> list[str]:
    """Prompts of the bundled gold pack (``examples/gold/*/prompt.txt``)."""
    return [p.read_text("utf-8") for p in sorted((examples / "gold").glob("*/prompt.txt"))]


def gold_traces(examples: Path = EXAMPLES_DIR) -> list[str]:
    """Texts of the example traces (``examples/traces/*.trace``)."""
    return [p.read_text("utf-8") for p in sorted((examples / "traces").glob("*.trace"))]


def sample_scene_texts(n: int, *, seed: int = 0, contract: str = "v1") -> list[str]:
    """``n`` valid scene texts, cycling block/row form and file/row surface.

    Args:
        n: how many texts.
        seed: seed of the sampler (same seed, same texts).
        contract: scene contract.

    Returns:
        Canonical scene texts.
    """
    from scene_dsl.printer import to_text
    from scene_dsl.strategies import sample_scene

    rng = random.Random(seed)
    out: list[str] = []
    for i in range(n):
        scene = sample_scene(rng, contract)
        out.append(
            to_text(scene, form=("block", "row")[i % 2], inline=bool(i // 2 % 2), contract=contract)
        )
    return out


def sample_trace_texts(n: int, *, seed: int = 0) -> list[str]:
    """``n`` trace texts (single and composed) over every expert.

    Args:
        n: how many texts.
        seed: seed of the sampler.

    Returns:
        Canonical trace texts that ``trace_dsl.parse`` accepts.
    """
    from trace_dsl.printer import to_text
    from trace_dsl.strategies import sample_trace

    rng = random.Random(seed)
    return [to_text(sample_trace(rng)) for _ in range(n)]


def default_corpus(language: str = "scene", *, n_generated: int = 2000, seed: int = 0) -> list[str]:
    """The corpus used when none is given: gold programs plus generated ones.

    Args:
        language: ``scene``, ``trace`` or ``both``.
        n_generated: generated programs per language.
        seed: sampler seed.

    Returns:
        Texts to train on.
    """
    out: list[str] = []
    if language in ("scene", "both"):
        out += gold_scenes() + gold_prompts() + sample_scene_texts(n_generated, seed=seed)
    if language in ("trace", "both"):
        out += gold_traces() + sample_trace_texts(n_generated, seed=seed)
    return out


def read_corpus(paths: Sequence[str | Path]) -> list[str]:
    """Read corpus files: ``.jsonl`` rows give their ``prompt`` and ``target`` (or ``text``)
    fields; any other file (``.dsl``, ``.trace``, text) is one text.

    Raises:
        TokenizerError: K003 for a missing or unreadable file or a bad JSONL line.
    """
    out: list[str] = []
    for p in map(Path, paths):
        if p.suffix == ".jsonl":
            for row in _jsonl(p, "K003"):
                out.extend(
                    str(row[k]) for k in ("prompt", "target", "text") if isinstance(row.get(k), str)
                )
        else:
            out.append(_read(p, "K003"))
    return out


def read_rows(path: str | Path) -> list[dict[str, str]]:
    """Read budget rows: JSONL objects with string ``prompt`` and ``target`` fields.

    Raises:
        TokenizerError: K005 naming the line and what is wrong.
    """
    p = Path(path)
    rows: list[dict[str, str]] = []
    for i, row in enumerate(_jsonl(p, "K005"), 1):
        if not (isinstance(row.get("prompt"), str) and isinstance(row.get("target"), str)):
            line = getattr(row, "_line", i)
            raise fail(
                "K005",
                f"{p}: row {line} needs string 'prompt' and 'target' fields",
                line=line,
                column=1,
            )
        rows.append({"prompt": str(row["prompt"]), "target": str(row["target"])})
    return rows


def _read(p: Path, code: str) -> str:
    try:
        return p.read_text("utf-8")
    except FileNotFoundError:
        raise fail(code, f"{p}: no such file") from None
    except UnicodeDecodeError as exc:
        raise fail(code, f"{p}: not UTF-8 (byte {exc.start})") from None
    except OSError as exc:
        raise fail(code, f"{p}: cannot read ({exc.strerror})") from None


def _jsonl(p: Path, code: str) -> Iterator[dict[str, object]]:
    for n, line in enumerate(_read(p, code).splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = jsonio.loads(line, source=f"{p}:{n}")
        except InputError as exc:  # not JSON, nested too deep, NaN: one positioned message
            d = exc.diagnostic
            column = d.column if d is not None else 0
            message = d.message if d is not None else str(exc)
            raise fail(code, f"{message} (column {column})", line=n, column=column) from None
        if not isinstance(row, dict):
            raise fail(code, f"{p}:{n}: expected a JSON object per line", line=n, column=1)
        yield row
