"""The scene contract: vocabulary as data.

The grammar is generic (bracket tokens); the contract says which attributes, values,
components and fields exist, their canonical order, which are required or repeatable, how
row-form positional parts map to named fields, and which components each layout family admits.
Validation, canonicalisation, repair, the tokenizer and constrained decoding all read it.

Contracts are versioned JSON files. ``load_contract("v2")`` loads one shipped in the
package (``v1`` stays loadable); ``load_contract("path/to/my.json")`` loads a user's own.
:data:`DEFAULT_CONTRACT` (v2) is what every function uses when given no contract: it reads
dslkit's own scenes exactly as v1 did and everything the CKE v7 corpus says.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from dslkit import jsonio
from dslkit.errors import ContractError, InputError

__all__ = [
    "DEFAULT_CONTRACT",
    "AttributeSpec",
    "ComponentSpec",
    "Contract",
    "FamilySpec",
    "FieldSpec",
    "RowSignature",
    "ToneRule",
    "load_contract",
]

ID_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
REF_RE = re.compile(r"[A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)*\Z")
INT_RE = re.compile(r"(?:0|[1-9][0-9]*)\Z")
# A literal display slug (CKE D4 writes `broader_assets`, `48_units`): one payload part, so no
# '|', '=', '@', whitespace or brackets; the renderer humanizes it.
TEXT_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]*\Z")

DEFAULT_CONTRACT = "v2"  # the contract used when a caller names none


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One named field of a component."""

    name: str  # e.g. "title_ref"
    kind: str  # "ref" | "id" | "idref" | "text" | "enum" | "int"
    values: tuple[str, ...] = ()  # allowed values for enums
    enum: str = ""  # name of the shared enum ("tone", "variant", ...) for enums
    minimum: int = 0  # inclusive bounds for ints
    maximum: int = 0
    required: bool = False
    repeatable: bool = False
    shape: str = ""  # "object": a ref that must resolve to an object (its keys fill the component)
    row_name: str = ""  # row-form key when the short one is taken by another field (accent_ref)

    @property
    def row_key(self) -> str:
        """Key used for a named part in row form: ``note_ref`` is written ``note=``."""
        if self.row_name:
            return self.row_name
        return self.name[:-4] if self.name.endswith("_ref") and self.kind == "ref" else self.name

    def check(self, value: str) -> str | None:
        """Return why ``value`` is not allowed for this field, or None when it is."""
        return _check_kind(self.kind, value, self.values, self.minimum, self.maximum)


def _check_kind(kind: str, value: str, values: tuple[str, ...], lo: int, hi: int) -> str | None:
    if kind == "enum":
        return None if value in values else f"expected one of {', '.join(values)}"
    if kind == "int":
        if not INT_RE.match(value):
            return "expected a whole number"
        return None if lo <= int(value) <= hi else f"expected a number from {lo} to {hi}"
    if kind in ("id", "idref"):
        return None if ID_RE.match(value) else "expected an identifier like node_1"
    if kind == "ref":
        return None if REF_RE.match(value) else "expected a dotted content path like cards.0.title"
    if kind == "text":
        return None if TEXT_RE.match(value) else "expected a literal slug like compiler_first"
    return f"unknown field kind {kind!r}"


@dataclass(frozen=True, slots=True)
class RowSignature:
    """One positional shape of a component's row form.

    ``parts`` holds field names; an edge part is ``("from_ref", "to_ref")`` and a trailing
    variadic field is flagged by ``variadic``.
    """

    parts: tuple[tuple[str, ...], ...]  # each part: (field,) or (from_field, to_field)
    variadic: bool = False  # last part repeats: cell_ref*

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(name for part in self.parts for name in part)


@dataclass(frozen=True, slots=True)
class ComponentSpec:
    """A component: its fields in canonical order and its row-form signatures."""

    name: str
    fields: tuple[FieldSpec, ...]
    row: tuple[RowSignature, ...]
    requires_any: tuple[str, ...] = ()  # at least one of these fields must be present
    children: tuple[str, ...] = ()  # components allowed as nested sub-blocks
    singleton: bool = False  # at most one per scene
    child_only: bool = False  # only valid nested inside a parent block
    field_index: dict[str, int] = field(default_factory=dict, compare=False, hash=False)
    # Other spellings of a field (CKE block dialects write `panel_id` for node_id): readers
    # store the field's own name, so one meaning has one AST.
    aliases: dict[str, str] = field(default_factory=dict, compare=False, hash=False)

    def field(self, name: str) -> FieldSpec | None:
        i = self.field_index.get(name)
        return None if i is None else self.fields[i]

    def field_for_row_key(self, key: str) -> FieldSpec | None:
        """Resolve a row-form named key (``note``, ``note_ref`` or an alias) to its field."""
        found = self.field(key) or self.field(key + "_ref")
        if found is None and key in self.aliases:
            return self.field(self.aliases[key])
        return found

    # The row-signature rule, in one place: the parser reads positional parts with
    # signature_for, the printer writes with row_signature, the row automaton follows both.
    def signature_for(self, n: int) -> RowSignature | None:
        """The row signature that reads ``n`` positional parts: the first that takes ``n``."""
        for sig in self.row:
            fixed = len(sig.parts) - (1 if sig.variadic else 0)
            if n == len(sig.parts) or (sig.variadic and n >= fixed + 1):
                return sig
        return None

    def row_signature(self, counts: Mapping[str, int]) -> RowSignature | None:
        """The signature a row token writes its fields with.

        Args:
            counts: field name -> how many times the component has it.

        Returns:
            The longest signature whose fields are all present and that :meth:`signature_for`
            reads back from its part count (a later signature of the same arity, like
            table_block's ``[ref]`` after ``[block_title_ref]``, would read back as the wrong
            fields); None when no signature fits and every field is written ``key=value``.
        """
        best: RowSignature | None = None
        for sig in self.row:
            if best is not None and len(sig.fields) <= len(best.fields):
                continue
            if not all(counts.get(name, 0) >= 1 for name in sig.fields):
                continue
            arity = len(sig.parts)
            if sig.variadic:
                arity += counts.get(sig.parts[-1][0], 0) - 1
            if self.signature_for(arity) is sig:
                best = sig
        return best


@dataclass(frozen=True, slots=True)
class AttributeSpec:
    """A scene attribute such as ``theme`` with its values and default."""

    name: str
    kind: str  # "enum" | "int" | "id"
    values: tuple[str, ...] = ()
    default: str | None = None
    required: bool = False
    minimum: int = 0
    maximum: int = 0

    def check(self, value: str) -> str | None:
        """Return why ``value`` is not allowed, or None."""
        return _check_kind(self.kind, value, self.values, self.minimum, self.maximum)

    @property
    def all_values(self) -> tuple[str, ...]:
        """Every allowed value (ints expanded); empty for free ids like ``topic``."""
        if self.kind == "int":
            return tuple(str(i) for i in range(self.minimum, self.maximum + 1))
        return self.values


@dataclass(frozen=True, slots=True)
class ToneRule:
    """A combination rule: when ``when`` holds, ``attribute`` is restricted."""

    code: str
    when: tuple[tuple[str, str], ...]
    attribute: str
    allow: tuple[str, ...] | None
    forbid: tuple[str, ...]
    why: str

    def violated(self, attrs: dict[str, str]) -> bool:
        if not all(attrs.get(k) == v for k, v in self.when):
            return False
        value = attrs.get(self.attribute)
        if value is None:
            return False
        return value in self.forbid or (self.allow is not None and value not in self.allow)


@dataclass(frozen=True, slots=True)
class FamilySpec:
    """A layout family: the components it admits and the ones it needs."""

    name: str
    admits: frozenset[str]
    requires_any: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Contract:
    """A loaded, cross-checked contract. Immutable; cached per source."""

    version: str
    attributes: tuple[AttributeSpec, ...]
    components: dict[str, ComponentSpec] = field(hash=False)
    families: dict[str, FamilySpec] = field(hash=False)
    enums: dict[str, tuple[str, ...]] = field(hash=False)
    rules: tuple[ToneRule, ...] = ()
    source: str = ""

    def attribute(self, name: str) -> AttributeSpec | None:
        for spec in self.attributes:
            if spec.name == name:
                return spec
        return None

    @property
    def attribute_names(self) -> tuple[str, ...]:
        """Attribute names in canonical order."""
        return tuple(a.name for a in self.attributes)

    def attribute_rank(self, name: str) -> int:
        """Canonical position of an attribute; unknown attributes sort last."""
        names = self.attribute_names
        return names.index(name) if name in names else len(names)


def _parse_kind(text: str, enums: dict[str, tuple[str, ...]], where: str) -> dict[str, Any]:
    head, _, rest = text.partition(":")
    if head == "ref" and rest == "object":
        return {"kind": "ref", "shape": "object"}
    if head in ("ref", "id", "idref", "text") and not rest:
        return {"kind": head}
    if head == "enum":
        if rest not in enums:
            raise ContractError(f"{where}: unknown enum {rest!r}")
        return {"kind": "enum", "enum": rest, "values": enums[rest]}
    if head == "int":
        lo, _, hi = rest.partition(":")
        try:
            return {"kind": "int", "minimum": int(lo), "maximum": int(hi)}
        except ValueError:
            raise ContractError(f"{where}: int kind needs int:MIN:MAX, got {text!r}") from None
    raise ContractError(f"{where}: unknown field kind {text!r}")


def _build(data: dict[str, Any], source: str) -> Contract:
    try:
        enums = {k: tuple(v) for k, v in data["enums"].items()}
        attributes = tuple(
            AttributeSpec(
                name=a["name"],
                kind=a.get("kind", "enum"),
                values=tuple(a.get("values", ())),
                default=a.get("default"),
                required=bool(a.get("required", False)),
                minimum=int(a.get("min", 0)),
                maximum=int(a.get("max", 0)),
            )
            for a in data["attributes"]
        )
        components: dict[str, ComponentSpec] = {}
        for name, c in data["components"].items():
            where = f"component {name}"
            required = set(c.get("required", ()))
            repeatable = set(c.get("repeatable", ()))
            fields = tuple(
                FieldSpec(
                    name=fname,
                    required=fname in required,
                    repeatable=fname in repeatable,
                    **_parse_kind(kind, enums, f"{where} field {fname}"),
                )
                for fname, kind in c["fields"].items()
            )
            index = {f.name: i for i, f in enumerate(fields)}
            fields = tuple(_with_row_name(f, index) for f in fields)
            aliases = dict(c.get("aliases", {}))
            for alias, target in aliases.items():
                if target not in index or alias in index:
                    raise ContractError(
                        f"{where}: alias {alias!r} must name a field ({target!r}) and not be one"
                    )
            for group, label in ((required, "required"), (repeatable, "repeatable")):
                if group - index.keys():
                    raise ContractError(
                        f"{where}: {label} names unknown {sorted(group - index.keys())}"
                    )
            row = tuple(_parse_signature(sig, index, where) for sig in c.get("row", [[]]))
            components[name] = ComponentSpec(
                name=name,
                fields=fields,
                row=row,
                requires_any=tuple(c.get("requires_any", ())),
                children=tuple(c.get("children", ())),
                singleton=bool(c.get("singleton", False)),
                child_only=bool(c.get("child_only", False)),
                field_index=index,
                aliases=aliases,
            )
        common = set(data.get("common_components", ()))
        families = {
            name: FamilySpec(
                name=name,
                admits=frozenset(common | set(f["admits"])),
                requires_any=tuple(f.get("requires_any", ())),
            )
            for name, f in data["families"].items()
        }
        rules = tuple(
            ToneRule(
                code=r["code"],
                when=tuple(r["when"].items()),
                attribute=r["attribute"],
                allow=tuple(r["allow"]) if "allow" in r else None,
                forbid=tuple(r.get("forbid", ())),
                why=r["why"],
            )
            for r in data.get("rules", ())
        )
        contract = Contract(
            version=str(data["version"]),
            attributes=attributes,
            components=components,
            families=families,
            enums=enums,
            rules=rules,
            source=source,
        )
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        raise ContractError(f"malformed contract {source}: missing or bad entry {exc}") from None
    _check_types(contract, source)
    _cross_check(contract)
    return contract


def _with_row_name(f: FieldSpec, index: dict[str, int]) -> FieldSpec:
    # `accent_ref=` would shorten to `accent=`, which is the enum field: keep the full name.
    short = f.name[:-4] if f.name.endswith("_ref") and f.kind == "ref" else f.name
    return replace(f, row_name=f.name) if short != f.name and short in index else f


def _strs(values: object) -> bool:
    return isinstance(values, (tuple, frozenset)) and all(isinstance(v, str) for v in values)


def _check_types(contract: Contract, source: str) -> None:
    # JSON gives any type anywhere; a list where a name belongs used to load fine and then
    # fail with a TypeError deep inside parse or validate. Check the shapes once, here.
    bad: list[str] = []
    for name, values in contract.enums.items():
        if not _strs(values):
            bad.append(f"enum {name}")
    for a in contract.attributes:
        if not (isinstance(a.name, str) and isinstance(a.kind, str) and _strs(a.values)):
            bad.append(f"attribute {a.name!r}")
        elif a.default is not None and not isinstance(a.default, str):
            bad.append(f"attribute {a.name} default")
    for c in contract.components.values():
        if not (_strs(c.requires_any) and _strs(c.children)):
            bad.append(f"component {c.name} requires_any/children")
        if any(not isinstance(f.name, str) for f in c.fields):
            bad.append(f"component {c.name} fields")
    for fam in contract.families.values():
        if not (_strs(fam.admits) and _strs(fam.requires_any)):
            bad.append(f"family {fam.name}")
    for r in contract.rules:
        if not (
            isinstance(r.attribute, str) and _strs(r.forbid) and (r.allow is None or _strs(r.allow))
        ):
            bad.append(f"rule {r.code}")
    if bad:
        raise ContractError(f"malformed contract {source}: wrong types in {', '.join(bad[:5])}")


def _parse_signature(sig: list[str], index: dict[str, int], where: str) -> RowSignature:
    parts: list[tuple[str, ...]] = []
    variadic = False
    for i, item in enumerate(sig):
        if item.endswith("*"):
            if i != len(sig) - 1:
                raise ContractError(f"{where}: only the last row part may repeat ({item})")
            variadic = True
            item = item[:-1]
        names = tuple(item.split("->"))
        for n in names:
            if n not in index:
                raise ContractError(f"{where}: row signature names unknown field {n!r}")
        parts.append(names)
    return RowSignature(parts=tuple(parts), variadic=variadic)


def _cross_check(contract: Contract) -> None:
    layout = contract.attribute("layout")
    if layout is None:
        raise ContractError("contract has no 'layout' attribute")
    missing = set(layout.values) - contract.families.keys()
    if missing:
        raise ContractError(f"layout values without a family: {sorted(missing)}")
    for fam in contract.families.values():
        unknown = fam.admits - contract.components.keys()
        if unknown:
            raise ContractError(f"family {fam.name} admits unknown components {sorted(unknown)}")
    for comp in contract.components.values():
        for child in comp.children:
            if child not in contract.components:
                raise ContractError(f"component {comp.name} has unknown child {child!r}")


@lru_cache(maxsize=16)
def _load_cached(key: str) -> Contract:
    if ID_RE.match(key):
        try:
            text = (
                resources.files("scene_dsl")
                .joinpath("contracts")
                .joinpath(f"{key}.json")
                .read_text("utf-8")
            )
        except FileNotFoundError:
            raise ContractError(
                f"no bundled contract named {key!r} (bundled: {', '.join(bundled_contracts())})"
            ) from None
        source = f"scene_dsl/contracts/{key}.json"
    else:
        path = Path(key)
        try:
            text = path.read_text("utf-8")
        except OSError as exc:
            raise ContractError(f"cannot read contract {key}: {exc.strerror}") from None
        source = str(path)
    try:
        data = jsonio.loads(text, source=source)
    except InputError as exc:  # not JSON, too deep, NaN: the reader's reason and position
        d = exc.diagnostic
        reason = d.message.removeprefix(f"{source}: ").removeprefix("not JSON: ") if d else exc
        where = f" at {d.line}:{d.column}" if d is not None and d.line else ""
        raise ContractError(f"contract {source} is not JSON: {reason}{where}") from None
    return _build(data, source)


def bundled_contracts() -> list[str]:
    """Names of the contracts shipped in the package."""
    folder = resources.files("scene_dsl").joinpath("contracts")
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".json"))


def load_contract(contract: str | Path | Contract = DEFAULT_CONTRACT) -> Contract:
    """Load a contract by bundled name (``"v2"``, ``"v1"``) or by path to a JSON file.

    Args:
        contract: a bundled name, a path, or an already loaded :class:`Contract` (returned as is).

    Returns:
        The loaded contract (cached: loading the same name twice returns the same object).

    Raises:
        ContractError: the file is missing, not JSON, or internally inconsistent.
    """
    if isinstance(contract, Contract):
        return contract
    return _load_cached(str(contract))
