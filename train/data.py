"""Data materialisation: prompt -> target rows from the gold pack, the scene sampler and GSM8K.

A :class:`Row` is plain data (JSONL-ready). Targets are canonical text, so exact match means
"the model wrote the one canonical program". Splits are a pure function of ``(seed, prompt)``:
the same prompt always lands in the same split, so train and holdout prompts are disjoint by
construction, and adding rows never moves existing ones.

:func:`qc` is the gate a dataset passes before training: every target parses, validates and
compiles (scenes) or solves to its answer (traces); no duplicates; no holdout prompt in train;
with a tokenizer, no token that decodes differently than the text and no row over the budget.
:func:`pack` turns rows into the training core's :class:`~train.packing.PackedRows`.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

from dslkit.compilers.scene_verdict import SceneCompiler, verify_scene
from dslkit.train.languages import Language

import scene_dsl
from dslkit.errors import CompileError, DslkitError
from scene_dsl.skeleton import skeleton_prompt

__all__ = [
    "AUDIENCE_BY_THEME",
    "DEFAULT_FRACTIONS",
    "DEFAULT_GSM8K",
    "GOAL_BY_FAMILY",
    "Materialized",
    "QcError",
    "QcProblem",
    "QcReport",
    "Row",
    "assign_split",
    "explicit_prompt",
    "gold_rows",
    "intent_prompt",
    "materialize",
    "pack",
    "qc",
    "read_jsonl",
    "sampled_rows",
    "trace_prompt",
    "trace_rows",
    "write_jsonl",
]

SPLITS = ("train", "dev", "test", "hidden")
DEFAULT_FRACTIONS: tuple[tuple[str, float], ...] = (
    ("train", 0.8),
    ("dev", 0.1),
    ("test", 0.05),
    ("hidden", 0.05),
)
DEFAULT_GSM8K = "../shared/data/gsm8k/train.jsonl"

# Intent prompts name what the figure is *for*, not how it looks: one goal word per family, so a
# model has to learn family choice from intent (deterministic: the same scene, the same goal).
GOAL_BY_FAMILY: dict[str, str] = {
    "poster_stack": "announce",
    "comparison_span_chart": "compare_ranges",
    "pipeline_lane": "explain_process",
    "dashboard_cards": "monitor",
    "timeline_flow": "sequence_steps",
    "dual_panel_compare": "contrast",
    "table_matrix": "tabulate",
    "decision_tree": "decide",
    "memory_map": "map_memory",
    "flow_graph": "trace_flow",
    "comparison_board": "compare_options",
    "timeline": "chronicle",
    "system_diagram": "explain_system",
    "architecture_map": "map_architecture",
    "concept_editorial": "explain_concept",
    "spectrum_map": "position",
    "technical_diagram": "document",
    "memory_training_map": "plan_training",
    "utility_micrographic": "summarize",
}
AUDIENCE_BY_THEME: dict[str, str] = {
    "infra_dark": "engineers",
    "paper_editorial": "readers",
    "signal_glow": "presenters",
}


class QcError(DslkitError):
    """A dataset failed its quality gate (the message lists the problems by kind)."""


@dataclass(frozen=True)
class Row:
    """One training example: a prompt the model reads and the canonical target it must write."""

    id: str  # stable: hash of language, prompt and target
    prompt: str  # e.g. "[task:svg] [layout:timeline] ... [OUT]"
    target: str  # canonical program text (inline scene or trace text)
    split: str  # train | dev | test | hidden, from (seed, prompt)
    family: str  # scene layout family, or the trace's (last) expert
    language: Language  # "scene" or "trace"
    content: Mapping[str, Any] | None = field(default=None, compare=False)  # scene content.json
    answer: str | None = None  # trace answer as exact text (GSM8K "#### 72" -> "72")
    source: str = ""  # "gold:<case>", "sampler:<seed>:<i>", "gsm8k:<line>"
    surface: str = ""  # "explicit" | "intent" | "question"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (what :func:`write_jsonl` writes per line)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Row:
        """Inverse of :meth:`to_dict`."""
        return cls(**{k: data[k] for k in data if k in cls.__dataclass_fields__})


@dataclass(frozen=True)
class Materialized:
    """Rows plus what the materialiser had to say (skipped sources, counts)."""

    rows: tuple[Row, ...]
    notes: tuple[str, ...] = ()

    def __iter__(self) -> Iterator[Row]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def split(self, name: str) -> list[Row]:
        """Rows of one split, in order."""
        return [r for r in self.rows if r.split == name]


# ----------------------------------------------------------------------------- prompts
def _attr(scene: scene_dsl.Scene, key: str, contract: scene_dsl.Contract) -> str:
    value = scene.attr(key)
    if value is not None:
        return value
    spec = contract.attribute(key)
    return (spec.default if spec is not None else None) or "none"


def explicit_prompt(scene: scene_dsl.Scene, topic: str, contract: str = "v1") -> str:
    """The explicit prompt surface: the look is spelled out.

    Args:
        scene: the target scene (attributes missing from it read as their contract default).
        topic: topic id of the row.
        contract: contract that supplies defaults.

    Returns:
        ``[task:svg] [layout:..] [topic:..] [theme:..] [tone:..] [density:..] [OUT]``.
    """
    spec = scene_dsl.load_contract(contract)
    return (
        f"[task:svg] [layout:{_attr(scene, 'layout', spec)}] [topic:{topic}] "
        f"[theme:{_attr(scene, 'theme', spec)}] [tone:{_attr(scene, 'tone', spec)}] "
        f"[density:{_attr(scene, 'density', spec)}] [OUT]"
    )


def intent_prompt(scene: scene_dsl.Scene, topic: str, contract: str = "v1") -> str:
    """The intent prompt surface: what the figure is for, derived from family and theme.

    Args:
        scene: the target scene.
        topic: topic id of the row.
        contract: contract that supplies defaults.

    Returns:
        ``[task:svg] [topic:..] [goal:..] [audience:..] [OUT]``.
    """
    spec = scene_dsl.load_contract(contract)
    layout = _attr(scene, "layout", spec)
    theme = _attr(scene, "theme", spec)
    goal = GOAL_BY_FAMILY.get(layout, layout)
    audience = AUDIENCE_BY_THEME.get(theme, theme)
    return f"[task:svg] [topic:{topic}] [goal:{goal}] [audience:{audience}] [OUT]"


def trace_prompt(question: str) -> str:
    """The trace prompt surface: the word problem between a task tag and ``[OUT]``.

    Args:
        question: the GSM8K question text.

    Returns:
        ``[task:trace] <question on one line> [OUT]``.
    """
    return f"[task:trace] {' '.join(question.split())} [OUT]"


# ----------------------------------------------------------------------------- splits, ids
def _digest(*parts: str) -> bytes:
    h = hashlib.blake2b(digest_size=16)
    for p in parts:
        h.update(p.encode("utf-8"))
        h.update(b"\x00")
    return h.digest()


def assign_split(
    prompt: str, seed: int = 0, fractions: Sequence[tuple[str, float]] = DEFAULT_FRACTIONS
) -> str:
    """The split of a prompt: a pure function of ``(seed, prompt)``.

    Args:
        prompt: the prompt text (rows with equal prompts always share a split).
        seed: changes the assignment as a whole.
        fractions: ``(split, share)`` pairs; shares are normalised.

    Returns:
        The split name.
    """
    total = sum(f for _, f in fractions)
    if total <= 0:
        raise ValueError("split fractions must sum to a positive number")
    u = int.from_bytes(_digest(str(seed), prompt)[:8], "big") / 2**64
    acc = 0.0
    for name, share in fractions:
        acc += share / total
        if u < acc:
            return name
    return fractions[-1][0]


def _row_id(language: str, prompt: str, target: str) -> str:
    return f"{language}-{_digest(language, prompt, target).hex()[:16]}"


def _scene_rows(
    scene: scene_dsl.Scene,
    content: Mapping[str, Any] | None,
    *,
    topic: str,
    source: str,
    form: str,
    surfaces: Sequence[str],
    contract: str,
) -> list[Row]:
    scene = scene_dsl.canonicalize(scene, contract)
    target = scene_dsl.canonical_text(scene, form=form, inline=True, contract=contract)
    family = scene.layout or "unknown"
    rows = []
    for surface in surfaces:
        if surface == "explicit":
            prompt = explicit_prompt(scene, topic, contract)
        elif surface == "intent":
            prompt = intent_prompt(scene, topic, contract)
        elif surface == "skeleton":
            # well-posed: the prompt determines the target when its refs follow the policy
            prompt = skeleton_prompt(scene, form=form, contract=contract)
        else:
            raise ValueError(
                f"unknown prompt surface {surface!r}: use 'explicit', 'intent' or 'skeleton'"
            )
        rows.append(
            Row(
                id=_row_id("scene", prompt, target),
                prompt=prompt,
                target=target,
                split="",
                family=family,
                language="scene",
                content=content,
                source=source,
                surface=surface,
            )
        )
    return rows


# ----------------------------------------------------------------------------- sources
def gold_rows(
    gold_dir: str | Path = "examples/gold",
    *,
    form: str = "block",
    surfaces: Sequence[str] = ("explicit", "intent"),
    contract: str = "v1",
) -> list[Row]:
    """Scene rows from a gold pack: one folder per case with ``scene.dsl`` and ``content.json``.

    Args:
        gold_dir: the pack folder.
        form: target form, ``"block"`` or ``"row"``.
        surfaces: prompt surfaces to emit per case.
        contract: contract name or path.

    Returns:
        Rows (split unset) in case-name order. The topic is the scene's ``topic`` attribute,
        else the case folder name.

    Raises:
        SceneSyntaxError: a case's scene does not parse (a broken gold pack is an error).
    """
    rows: list[Row] = []
    for case in sorted(p for p in Path(gold_dir).iterdir() if (p / "scene.dsl").is_file()):
        text = (case / "scene.dsl").read_text(encoding="utf-8")
        scene = scene_dsl.parse(text, contract=contract)
        content_path = case / "content.json"
        content = (
            json.loads(content_path.read_text(encoding="utf-8")) if content_path.is_file() else None
        )
        topic = scene.attr("topic") or case.name
        rows += _scene_rows(
            scene,
            content,
            topic=topic,
            source=f"gold:{case.name}",
            form=form,
            surfaces=surfaces,
            contract=contract,
        )
    return rows


def sampled_rows(
    n: int,
    *,
    seed: int = 0,
    form: str = "block",
    surfaces: Sequence[str] = ("explicit", "intent"),
    contract: str = "v1",
) -> list[Row]:
    """Scene rows from the contract-driven sampler (:mod:`scene_dsl.strategies`).

    Each scene gets synthetic content that resolves every ref. A scene without a ``topic``
    gets a unique one (``<family>_s<seed>_<i>``) so prompts tell scenes apart.

    Args:
        n: number of scenes (each yields one row per surface).
        seed: fixes the scenes and their content.
        form: target form.
        surfaces: prompt surfaces.
        contract: contract name or path.

    Returns:
        Rows, split unset.
    """
    from dataclasses import replace

    from scene_dsl.strategies import sample_content, sample_scene

    rng = random.Random(seed)
    rows: list[Row] = []
    for i in range(n):
        scene = sample_scene(rng, contract)
        topic = scene.attr("topic")
        if topic is None:
            topic = f"{scene.layout}_s{seed}_{i}"
            scene = replace(scene, attrs=(*scene.attrs, scene_dsl.Attr("topic", topic)))
        content = sample_content(scene, contract, rng)
        rows += _scene_rows(
            scene,
            content,
            topic=topic,
            source=f"sampler:{seed}:{i}",
            form=form,
            surfaces=surfaces,
            contract=contract,
        )
    return rows


def _gsm8k_answer(answer_field: str) -> str | None:
    _, sep, tail = answer_field.rpartition("####")
    if not sep:
        return None
    return tail.strip().replace(",", "") or None


def _trace_text(converted: Any) -> str | None:
    """Canonical trace text from whatever the converter returned (text, AST, or a result)."""
    import trace_dsl

    if converted is None:
        return None
    for attr in ("text", "trace"):
        inner = getattr(converted, attr, None)
        if inner is not None and not callable(inner):
            converted = inner
            break
    if isinstance(converted, str):
        return trace_dsl.to_text(trace_dsl.canonicalize(trace_dsl.parse(converted)))
    if isinstance(converted, trace_dsl.Trace):
        return trace_dsl.to_text(trace_dsl.canonicalize(converted))
    return None


def trace_rows(
    path: str | Path = DEFAULT_GSM8K, *, limit: int | None = None
) -> tuple[list[Row], list[str]]:
    """Trace rows (question -> canonical trace) from GSM8K through ``trace_dsl.gsm8k``.

    Args:
        path: a GSM8K JSONL file (``question``, ``answer`` per line).
        limit: read at most this many lines.

    Returns:
        ``(rows, notes)``: rows with split unset, and human-readable notes (a missing file or
        converter, how many records the converter could not turn into a trace).
    """
    path = Path(path)
    if not path.is_file():
        return [], [f"trace rows skipped: GSM8K file {path} not found"]
    try:
        from trace_dsl import gsm8k
    except ImportError:
        return [], ["trace rows skipped: trace_dsl.gsm8k (the GSM8K converter) is not available"]
    rows: list[Row] = []
    failed = 0
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if limit is not None and lineno > limit:
                break
            if not line.strip():
                continue
            record = json.loads(line)
            try:
                text = _trace_text(gsm8k.convert(record["question"], record["answer"]))
            except DslkitError:
                text = None
            if text is None:
                failed += 1
                continue
            import trace_dsl

            trace = trace_dsl.parse(text)
            prompt = trace_prompt(record["question"])
            rows.append(
                Row(
                    id=_row_id("trace", prompt, text),
                    prompt=prompt,
                    target=text,
                    split="",
                    family=trace.blocks[-1].expert if trace.blocks else "unknown",
                    language="trace",
                    answer=_gsm8k_answer(record.get("answer", "")),
                    source=f"gsm8k:{lineno}",
                    surface="question",
                )
            )
    notes = [f"trace rows: {len(rows)} converted from {path}, {failed} records not convertible"]
    return rows, notes


def materialize(
    *,
    gold_dir: str | Path | None = "examples/gold",
    n_sampled: int = 0,
    gsm8k: str | Path | None = DEFAULT_GSM8K,
    trace_limit: int | None = None,
    form: str = "block",
    surfaces: Sequence[str] = ("explicit", "intent"),
    seed: int = 0,
    fractions: Sequence[tuple[str, float]] = DEFAULT_FRACTIONS,
    contract: str = "v1",
) -> Materialized:
    """Build every row and assign splits.

    Args:
        gold_dir: gold pack folder; ``None`` (or a missing folder, noted) adds no gold rows.
        n_sampled: scenes to draw from the contract sampler.
        gsm8k: GSM8K JSONL path for trace rows; ``None`` adds none, a missing file is noted.
        trace_limit: read at most this many GSM8K lines.
        form: scene target form, ``"block"`` or ``"row"``.
        surfaces: scene prompt surfaces.
        seed: fixes sampled scenes and the split assignment.
        fractions: ``(split, share)`` pairs, e.g. ``(("train", 1.0),)`` to train on all rows.
        contract: contract name or path.

    Returns:
        :class:`Materialized` rows (gold, sampled, trace, in that order) and notes.
    """
    rows: list[Row] = []
    notes: list[str] = []
    if gold_dir is not None:
        if Path(gold_dir).is_dir():
            gold = gold_rows(gold_dir, form=form, surfaces=surfaces, contract=contract)
            rows += gold
            notes.append(f"gold rows: {len(gold)} from {gold_dir}")
        else:
            notes.append(f"gold rows skipped: {gold_dir} is not a folder")
    if n_sampled:
        sampled = sampled_rows(
            n_sampled, seed=seed, form=form, surfaces=surfaces, contract=contract
        )
        rows += sampled
        notes.append(f"sampled rows: {len(sampled)} from {n_sampled} scenes (seed {seed})")
    if gsm8k is not None:
        traces, trace_notes = trace_rows(gsm8k, limit=trace_limit)
        rows += traces
        notes += trace_notes
    from dataclasses import replace

    rows = [replace(r, split=assign_split(r.prompt, seed, fractions)) for r in rows]
    return Materialized(tuple(rows), tuple(notes))


# ----------------------------------------------------------------------------- JSONL
def write_jsonl(rows: Iterable[Row], path: str | Path) -> Path:
    """Write rows as JSON lines (sorted keys, UTF-8), creating parent folders.

    Returns:
        The path written.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as fh:
        for r in rows:
            fh.write(json.dumps(r.to_dict(), sort_keys=True, ensure_ascii=False) + "\n")
    return path


def read_jsonl(path: str | Path) -> list[Row]:
    """Read rows written by :func:`write_jsonl`."""
    with Path(path).open(encoding="utf-8") as fh:
        return [Row.from_dict(json.loads(line)) for line in fh if line.strip()]


# ----------------------------------------------------------------------------- QC
class TokenizerLike(Protocol):
    """What :func:`qc` and :func:`pack` need from a tokenizer (``dslkit.tokenizer.DslTokenizer``)."""

    @property
    def special_ids(self) -> Mapping[str, int]: ...

    def encode(self, text: str) -> list[int]: ...

    def decode(self, ids: Sequence[int]) -> str: ...


QC_KINDS = (
    "parse",
    "validate",
    "compile",
    "solve",
    "duplicate",
    "prompt_determinism",
    "holdout_leak",
    "unknown_token",
    "over_budget",
)


@dataclass(frozen=True)
class QcProblem:
    """One failed check on one row."""

    kind: str  # one of QC_KINDS
    row_id: str
    message: str


@dataclass(frozen=True)
class QcReport:
    """Result of :func:`qc`: problems by kind, what was checked, what could not be checked."""

    n_rows: int
    problems: tuple[QcProblem, ...]
    checked: tuple[str, ...]  # kinds that were actually checked
    skipped: tuple[str, ...] = ()  # "compile: compilers.scene_svg not available", ...
    max_tokens: int = 0  # longest prompt + target (+ eos) in tokens, when a tokenizer was given

    @property
    def ok(self) -> bool:
        """True when no check failed."""
        return not self.problems

    def counts(self) -> dict[str, int]:
        """Problems per kind (kinds without problems are left out)."""
        return dict(Counter(p.kind for p in self.problems))

    def summary(self) -> str:
        """One line per kind, for logs."""
        head = f"qc: {self.n_rows} rows, {len(self.problems)} problems"
        lines = [head] + [f"  {k}: {n}" for k, n in sorted(self.counts().items())]
        lines += [f"  skipped {s}" for s in self.skipped]
        return "\n".join(lines)

    def raise_if_failed(self) -> None:
        """Raise :class:`QcError` listing the first problems when any check failed."""
        if self.problems:
            detail = "\n".join(f"  {p.kind} {p.row_id}: {p.message}" for p in self.problems[:10])
            raise QcError(f"{self.summary()}\n{detail}")


def _first_error(diags: Sequence[scene_dsl.Diagnostic]) -> scene_dsl.Diagnostic | None:
    return next((d for d in diags if d.is_error), None)


# The scene compiler is an optional import (qc runs without the render extra), so qc passes it
# on as a plain callable, ``compile_scene(scene, content)``, or None when it is missing.
_CompileScene = SceneCompiler


def _crash_is_compile_error(compile_scene: SceneCompiler) -> SceneCompiler:
    """A compiler crash is a compile failure of this row, not of QC: report it as one."""

    def guarded(scene: scene_dsl.Scene, content: Mapping[str, Any]) -> Any:
        try:
            return compile_scene(scene, content)
        except DslkitError:
            raise
        except Exception as e:
            raise CompileError(f"compiler crashed: {type(e).__name__}: {e}") from e

    return guarded


def _check_scene(
    row: Row, contract: str, compile_scene: _CompileScene | None, out: list[QcProblem]
) -> None:
    # parses / valid / renderable / canonical are the one scene verdict's (the critic and the
    # probe ask it too, so a row QC accepts is a row they accept)
    compiler = _crash_is_compile_error(compile_scene) if compile_scene is not None else None
    v = verify_scene(row.target, row.content, contract=contract, compile=compiler)
    if not v.parses:
        err = v.syntax_errors[0] if v.syntax_errors else None
        out.append(QcProblem("parse", row.id, err.format() if err else "does not parse"))
        return
    if not v.canonical:
        out.append(QcProblem("parse", row.id, "target is not in canonical form"))
    if not v.valid:
        err = next(d for d in v.errors if d not in v.syntax_errors)
        out.append(QcProblem("validate", row.id, err.format()))
        return
    if not v.renderable:
        out.append(QcProblem("compile", row.id, v.render_error))


def _row_problems(row: Row, contract: str, compile_scene: _CompileScene | None) -> list[QcProblem]:
    """The checks of one row on its own (module level: a process pool runs it)."""
    out: list[QcProblem] = []
    if row.language == "scene":
        _check_scene(row, contract, compile_scene, out)
    elif row.language == "trace":
        _check_trace(row, out)
    else:
        out.append(QcProblem("parse", row.id, f"unknown language {row.language!r}"))
    return out


def _check_trace(row: Row, out: list[QcProblem]) -> None:
    from dslkit.compilers.trace_solver import solve

    import trace_dsl

    res = trace_dsl.parse(row.target, errors="collect")
    if not res.ok or res.trace is None:  # ok implies a trace; the test narrows the type
        err = _first_error(res.diagnostics)
        out.append(QcProblem("parse", row.id, err.format() if err else "does not parse"))
        return
    if row.answer is None:
        return
    result = solve(res.trace)
    if not result.ok or result.answer is None:
        out.append(QcProblem("solve", row.id, f"{result.status.value}: {result.error}"))
        return
    from fractions import Fraction

    try:
        expected = Fraction(row.answer)
    except (ValueError, ZeroDivisionError):
        out.append(QcProblem("solve", row.id, f"answer {row.answer!r} is not a number"))
        return
    if Fraction(result.answer) != expected:
        out.append(QcProblem("solve", row.id, f"solves to {result.answer}, expected {row.answer}"))


def _encode_row(tokenizer: Any, row: Row) -> tuple[list[int], list[int]]:
    """``(prompt_ids, target_ids)`` framed the tokenizer's way (bos ... [OUT], target eos)."""
    if hasattr(tokenizer, "encode_row"):
        return tokenizer.encode_row(row.prompt, row.target)
    return tokenizer.encode(row.prompt), [
        *tokenizer.encode(row.target),
        tokenizer.special_ids["<|eos|>"],
    ]


def _row_totals(tokenizer: Any, rows: Sequence[Row], ctx: int | None) -> list[int]:
    """Tokens per row (prompt + target + eos), from the tokenizer package's budget report."""
    if rows and hasattr(tokenizer, "encode_row"):
        from dslkit.tokenizer.budget import budget

        report = budget(
            tokenizer, [{"prompt": r.prompt, "target": r.target} for r in rows], ctx or 1
        )
        return [c.total for c in report.rows]
    return [sum(map(len, _encode_row(tokenizer, r))) for r in rows]


def qc(
    rows: Sequence[Row],
    *,
    tokenizer: TokenizerLike | None = None,
    ctx: int | None = None,
    contract: str = "v1",
    compile_scenes: bool = True,
    workers: int = 1,
) -> QcReport:
    """Quality gate: check every row and report every problem (it does not stop at the first).

    Args:
        rows: the rows (all splits together: the leak check compares them).
        tokenizer: when given, checks that prompt and target survive encode/decode exactly
            (``unknown_token``) and measures lengths.
        ctx: context length in positions; with a tokenizer, rows needing more are
            ``over_budget``.
        contract: scene contract.
        compile_scenes: compile scene targets with their content (``dslkit.compilers.scene_svg``).
        workers: processes for the per-row checks (parse, validate, compile: most of the time
            on thousands of rows); the report is the same, in row order, for any count.

    Returns:
        A :class:`QcReport`; call ``.raise_if_failed()`` to use it as a gate.
    """
    problems: list[QcProblem] = []
    checked = ["parse", "validate", "solve", "duplicate", "prompt_determinism", "holdout_leak"]
    skipped: list[str] = []
    compile_scene: _CompileScene | None = None
    if compile_scenes:
        try:
            from dslkit.compilers.scene_svg import compile_scene as scene_compiler
        except ImportError:
            skipped.append("compile: compilers.scene_svg is not available")
        else:
            compile_scene = scene_compiler
            checked.append("compile")
    if workers > 1 and len(rows) > 1:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor
        from functools import partial

        # fork where there is one: the workers start with everything imported
        methods = multiprocessing.get_all_start_methods()
        mp = multiprocessing.get_context("fork" if "fork" in methods else None)
        chunk = max(1, len(rows) // (workers * 8))
        with ProcessPoolExecutor(workers, mp_context=mp) as pool:
            check = partial(_row_problems, contract=contract, compile_scene=compile_scene)
            found = pool.map(check, rows, chunksize=chunk)
            for row_problems in found:
                problems.extend(row_problems)
    else:
        for row in rows:
            problems.extend(_row_problems(row, contract, compile_scene))
    # duplicates: the same (prompt, target) twice; prompt determinism: one prompt, two targets
    # (a model cannot be exact on both, so the second row is rejected)
    seen: dict[tuple[str, str], str] = {}
    by_prompt: dict[str, Row] = {}
    for row in rows:
        key = (row.prompt, row.target)
        if key in seen:
            problems.append(
                QcProblem("duplicate", row.id, f"same prompt and target as {seen[key]}")
            )
            continue
        seen[key] = row.id
        first = by_prompt.setdefault(row.prompt, row)
        if first is not row and first.target != row.target:
            problems.append(
                QcProblem("prompt_determinism", row.id, f"same prompt as {first.id}, other target")
            )
    train_prompts = {r.prompt for r in rows if r.split == "train"}
    for row in rows:
        if row.split != "train" and row.prompt in train_prompts:
            problems.append(QcProblem("holdout_leak", row.id, f"{row.split} prompt also in train"))
    max_tokens = 0
    if tokenizer is not None:
        checked += ["unknown_token", "over_budget"]
        for row in rows:
            for name, text in (("prompt", row.prompt), ("target", row.target)):
                back = tokenizer.decode(tokenizer.encode(text))
                if back != text:
                    at = next(
                        (i for i, (a, b) in enumerate(zip(back, text, strict=False)) if a != b),
                        min(len(back), len(text)),
                    )
                    problems.append(
                        QcProblem(
                            "unknown_token",
                            row.id,
                            f"{name} decodes differently from char {at}: {text[at : at + 20]!r}",
                        )
                    )
        for row, n in zip(rows, _row_totals(tokenizer, rows, ctx), strict=True):
            max_tokens = max(max_tokens, n)
            # the model reads n - 1 positions: prompt + target[:-1] (see train.packing)
            if ctx is not None and n - 1 > ctx:
                why = f"{n} tokens (prompt + target + eos) need {n - 1} positions > ctx {ctx}"
                problems.append(QcProblem("over_budget", row.id, why))
    return QcReport(len(rows), tuple(problems), tuple(checked), tuple(skipped), max_tokens)


# ----------------------------------------------------------------------------- packing
def pack(rows: Sequence[Row], tokenizer: TokenizerLike, *, vocab_size: int | None = None) -> Any:
    """Encode rows to token ids and pack them for the training loop.

    Rows are framed by the tokenizer's ``encode_row`` (``<|bos|> prompt [OUT]`` and
    ``target <|eos|>``): every target ends with the eos id, so decoding can stop on it. The loop never trains on prompt tokens (``dslkit.train.packing``).

    Args:
        rows: the rows, in order (row i of the pack is rows[i]).
        tokenizer: a ``dslkit.tokenizer.DslTokenizer`` (or anything with encode and special_ids).
        vocab_size: id space of the model; defaults to the tokenizer's vocabulary size.

    Returns:
        A :class:`dslkit.train.packing.PackedRows`, with the tokenizer's element ids when it
        has them (``DslTokenizer.structure``; used by ``GPTConfig.structure_size``).
    """
    from dslkit.train.packing import PackedRows

    if vocab_size is None:
        vocab_size = _vocab_size(tokenizer)
    pairs = [_encode_row(tokenizer, r) for r in rows]
    return PackedRows.from_rows(pairs, vocab_size=vocab_size, structure=_structure(tokenizer))


def _structure(tokenizer: Any) -> dict[str, tuple[int, ...]] | None:
    """The tokenizer's element ids when it has them (an atomic scene tokenizer), else None."""
    from dslkit.errors import TokenizerError

    structure = getattr(tokenizer, "structure", None)
    if structure is None:
        return None
    try:
        return dict(structure())
    except TokenizerError:  # K001: trace, split or bpe tokenizers count no elements
        return None


def _vocab_size(tokenizer: Any) -> int:
    for attr in ("vocab_size", "__len__"):
        value = getattr(tokenizer, attr, None)
        if value is not None:
            return int(value() if callable(value) else value)
    return len(tokenizer.vocab_strings())
