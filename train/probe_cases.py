"""Probe contracts: the fixed, versioned list of cases a probe runs, and its file format.

A probe contract file is JSONL: a header line (``{"format": "dslkit-probe", "name", "version",
"hash"}``), then one :class:`ProbeCase` per line. The hash pins the cases, so two probe reports
can only be compared when they ran the same contract (:class:`ProbeMismatchError`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from dslkit.train.data import SPLITS
from dslkit.train.languages import LANGUAGES

from dslkit.errors import ContractError

__all__ = [
    "PROBE_FORMAT",
    "PROBE_FORMAT_VERSION",
    "SPLITS",
    "ProbeCase",
    "ProbeMismatchError",
    "ProbeSet",
    "load_cases",
    "probe_hash",
    "save_cases",
]

PROBE_FORMAT = "dslkit-probe"  # header marker of a probe contract file
PROBE_FORMAT_VERSION = 1


class ProbeMismatchError(ContractError):
    """Two probe reports were built from different probe contracts and cannot be compared."""


# --------------------------------------------------------------------------- probe contracts


@dataclass(frozen=True)
class ProbeCase:
    """One probe case: a prompt and what a correct generator answers."""

    id: str  # stable within its probe contract
    prompt: str  # exactly what the generator receives
    expected: str  # the target text (scene DSL in its training form, or trace text)
    split: str = "test"  # train | dev | test | hidden
    family: str = ""  # layout family (scenes) or expert (traces); "" = from the target
    kind: str = "scene"  # "scene" | "trace"
    content: Mapping[str, Any] | None = None  # content.json the scene binds to
    answer: Any = None  # trace: the gold answer (number, numeric string or list)
    expert: str | None = None  # trace: the expert the trace must use

    def to_dict(self) -> dict[str, Any]:
        """JSON shape of one line of a probe contract file."""
        out = asdict(self)
        out["content"] = dict(self.content) if self.content is not None else None
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str = "") -> ProbeCase:
        """Build a case from one JSON object, naming ``where`` in errors."""
        known = {f for f in cls.__dataclass_fields__}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ContractError(f"{where}unknown probe case key {unknown[0]!r}")
        for key in ("id", "prompt", "expected"):
            if not isinstance(data.get(key), str):
                raise ContractError(f"{where}probe case needs a string {key!r}")
        case = cls(**dict(data))
        if case.kind not in LANGUAGES:
            raise ContractError(
                f"{where}probe case kind must be 'scene' or 'trace', got {case.kind!r}"
            )
        if case.split not in SPLITS:
            raise ContractError(
                f"{where}probe case split must be one of {SPLITS}, got {case.split!r}"
            )
        return case


@dataclass(frozen=True)
class ProbeSet:
    """A versioned probe contract: a named list of cases and the hash that pins it."""

    name: str
    version: int
    cases: tuple[ProbeCase, ...]

    @property
    def hash(self) -> str:
        """sha256 (16 hex digits) of name, version and every case: any edit changes it."""
        return probe_hash(self.name, self.version, self.cases)


def probe_hash(name: str, version: int, cases: Sequence[ProbeCase]) -> str:
    """Content hash of a probe contract (key order and whitespace do not matter).

    Args:
        name: probe contract name.
        version: its version number.
        cases: the cases, in order.

    Returns:
        16 hex digits of sha256 over the canonical JSON.
    """
    body = {"name": name, "version": version, "cases": [c.to_dict() for c in cases]}
    blob = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16]


def save_cases(
    path: str | Path, cases: Iterable[ProbeCase], *, name: str, version: int = 1
) -> ProbeSet:
    """Write a probe contract: a header line, then one case per line.

    Args:
        path: the ``.jsonl`` file to write.
        cases: the cases.
        name: the contract's name (e.g. ``"demo-scenes"``).
        version: bump it whenever the cases change on purpose.

    Returns:
        The written :class:`ProbeSet` (with its hash).
    """
    probe = ProbeSet(name, version, tuple(cases))
    ids = [c.id for c in probe.cases]
    if len(set(ids)) != len(ids):
        raise ContractError(f"probe {name!r}: case ids must be unique")
    header = {
        "format": PROBE_FORMAT,
        "format_version": PROBE_FORMAT_VERSION,
        "name": name,
        "version": version,
        "hash": probe.hash,
    }
    lines = [json.dumps(header, sort_keys=True)]
    lines += [json.dumps(c.to_dict(), sort_keys=True, ensure_ascii=False) for c in probe.cases]
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return probe


def load_cases(path: str | Path) -> ProbeSet:
    """Read a probe contract written by :func:`save_cases`.

    Args:
        path: the ``.jsonl`` file.

    Returns:
        The :class:`ProbeSet`.

    Raises:
        ContractError: unreadable file, bad JSON (with its line), missing header, unknown keys,
            duplicate ids, or a stored hash that does not match the cases (the file was edited
            without bumping its version).
    """
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise ContractError(f"cannot read probe contract {path}: {e}") from e
    records: list[tuple[int, Any]] = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            records.append((number, json.loads(line)))
        except json.JSONDecodeError as e:
            raise ContractError(f"{path}:{number}:{e.colno}: not JSON: {e.msg}") from e
    if (
        not records
        or not isinstance(records[0][1], dict)
        or records[0][1].get("format") != PROBE_FORMAT
    ):
        raise ContractError(
            f"{path}:1:1: a probe contract starts with a header line "
            f'{{"format": "{PROBE_FORMAT}", "name": ..., "version": ...}}'
        )
    header = records[0][1]
    cases = []
    for number, rec in records[1:]:
        if not isinstance(rec, dict):
            raise ContractError(f"{path}:{number}:1: a probe case is a JSON object")
        cases.append(ProbeCase.from_dict(rec, where=f"{path}:{number}:1: "))
    ids = [c.id for c in cases]
    if len(set(ids)) != len(ids):
        dup = next(i for i in ids if ids.count(i) > 1)
        raise ContractError(f"{path}: duplicate probe case id {dup!r}")
    probe = ProbeSet(
        str(header.get("name", path.stem)), int(header.get("version", 1)), tuple(cases)
    )
    stored = header.get("hash")
    if stored and stored != probe.hash:
        raise ContractError(
            f"{path}:1:1: stored hash {stored} does not match the cases ({probe.hash}): the "
            "contract was edited; bump its version and rewrite it with save_cases"
        )
    return probe
