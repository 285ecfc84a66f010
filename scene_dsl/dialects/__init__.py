"""Read and write the scene DSL in every surface it is really written in, around one AST.

The sqlglot model: a dialect is a small reader/writer over the one contract and the one
:class:`~scene_dsl.ast.Scene`, with its differences held as data (:mod:`scene_dsl.dialects.cke`).

=============  ===============================================================================
``dslkit``     dslkit's own block and row forms (:func:`scene_dsl.parser.parse`, the printer)
``d1``/``d2``  CKE id/ref rows ``[info_card:card_x|cards.card_x]``
``d3``         CKE ``@``-ref rows ``[compare_bar:@bars.a.label|...|accent=@bars.a.accent]``
``d4``         CKE literal-slug rows ``[section_card:overview|fast_path|why|variant=hero]``
``d5``/``d6``  CKE verbose blocks ``[outcome_panel] [panel_id:x] [ref:outcomes.x] [/outcome_panel]``
``cke``        reading: whichever of d1-d6 the text is; writing: the one CKE uses for the layout
``auto``       reading only: dslkit or one of d1-d6, recognised from the text alone
=============  ===============================================================================

AST conventions every reader keeps (the compiler relies on them):

- ids live in the contract's id fields: ``node_id`` (decision_node, outcome_panel, graph_node),
  ``segment_id``, ``stage_id``, ``column_id``, ``card_id`` (info_card), ``bracket_id``
  (region_bracket), ``formula_id``, ``panel_id`` (artifact_panel, terminal_panel), ``badge_id``,
  ``band_id`` (micrographic_band, marker_band), ``metric_id``, ``callout_id``, ``arc_id``;
  edges in ``from_ref``/``to_ref`` whatever the dialect spells them (``from_stage``, ``a->b``);
- a whole content object is the ``ref`` field (``[info_card:x|cards.x]`` gives
  ``card_id=x, ref=cards.x``); ``ref:object`` fields must resolve to an object (S604);
- literal display text (d4) lives in ``*_text`` fields; accents read from content in
  ``accent_ref`` (d3 ``accent=@P``), literal accents in ``accent``;
- block spellings are stored under the field they alias (``panel_id`` on outcome_panel is
  ``node_id``, ``legend_item_ref`` is ``item_ref``, ``title_ref`` on memory_segment is
  ``label_ref``);
- attributes a CKE file omits are filled with the CKE renderer's default for the layout and
  marked :attr:`~scene_dsl.ast.Attr.implicit` (equal to explicit ones; CKE writers omit them).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Literal, overload

from dslkit.errors import Diagnostic, SceneSyntaxError
from scene_dsl import parser as _parser
from scene_dsl.ast import Attr, Component, Field, Scene
from scene_dsl.contract import (
    DEFAULT_CONTRACT,
    ComponentSpec,
    Contract,
    FieldSpec,
    _parse_signature,
    load_contract,
)
from scene_dsl.diagnostics import diag
from scene_dsl.dialects import cke
from scene_dsl.dialects.cke import BLOCK_DIALECTS, CKE_DIALECTS, recognize_cke
from scene_dsl.parser import DEFAULT_MAX_CHARS, DEFAULT_MAX_DEPTH, ParseResult
from scene_dsl.printer import _take
from scene_dsl.printer import to_text as _dslkit_text

__all__ = ["READ_DIALECTS", "WRITE_DIALECTS", "fill_cke_defaults", "parse", "recognize", "to_text"]

READ_DIALECTS = ("auto", "dslkit", "cke", *CKE_DIALECTS)
WRITE_DIALECTS = ("dslkit", "cke", *CKE_DIALECTS)
_NAMES = {
    "d1": "D1 (gen1 id/ref rows)",
    "d2": "D2 (spec id/ref rows)",
    "d3": "D3 (@-ref rows)",
    "d4": "D4 (literal-slug rows)",
    "d5": "D5 (field blocks)",
    "d6": "D6 (ref blocks)",
}
_ONE_TOKEN_LINE_RE = re.compile(r"[ \t]*\[[^\[\]\s]*\][ \t]*\r?\Z")
_CKE_ALWAYS = ("layout", "theme", "tone")
_CKE_MARKS = tuple(f"[{key}:" for key in _CKE_ALWAYS)

ContractLike = str | Path | Contract


# -- recognition ------------------------------------------------------------------------------
def recognize(text: str) -> str:
    """Which dialect ``text`` is written in: ``"dslkit"`` or one of ``"d1"`` ... ``"d6"``.

    CKE files spell ``layout``, ``theme`` and ``tone`` and put one token per line (or, as
    some spec files do, every token on one line with no ``@`` part); dslkit's printer puts the
    attributes on one shared line, and its row form marks refs with ``@``. Among CKE files the
    catalogue's procedure decides (:func:`scene_dsl.dialects.cke.recognize_cke`). One line
    with no ``@`` part is read as CKE: a dslkit inline row of a scene without content refs
    looks the same, so pass ``dialect="dslkit"`` for those.
    """
    if not all(mark in text for mark in _CKE_MARKS):
        return "dslkit"
    lines = [line for line in text.split("\n") if line.strip()]
    if len(lines) == 1:
        cke_like = "@" not in text
    else:
        cke_like = all(_ONE_TOKEN_LINE_RE.match(line) for line in lines)
    return recognize_cke(text) if cke_like else "dslkit"


# -- the dialect contracts ----------------------------------------------------------------------
_DIALECT_CONTRACTS: dict[tuple[int, str], tuple[Contract, Contract]] = {}


def _dialect_contract(spec: Contract, sub: str) -> Contract:
    """``spec`` with the row signatures of a CKE row dialect (the only way its reading differs)."""
    key = (id(spec), sub)
    cached = _DIALECT_CONTRACTS.get(key)
    if cached is not None and cached[0] is spec:
        return cached[1]
    rows = cke.ROWS.get(sub, {})
    components = dict(spec.components)
    for name, sigs in rows.items():
        cspec = components.get(name)
        if cspec is None:
            continue  # a user contract without this component: the dialect has nothing to add
        where = f"dialect {sub} component {name}"
        row = tuple(_parse_signature(sig, cspec.field_index, where) for sig in sigs)
        components[name] = replace(cspec, row=row)
    out = replace(spec, components=components)
    _DIALECT_CONTRACTS[key] = (spec, out)
    return out


# -- reading ------------------------------------------------------------------------------------
@overload
def parse(
    text: str | bytes | bytearray | memoryview,
    *,
    dialect: str = "dslkit",
    errors: Literal["raise"] = "raise",
    contract: ContractLike = DEFAULT_CONTRACT,
    max_chars: int = DEFAULT_MAX_CHARS,
    max_depth: int = DEFAULT_MAX_DEPTH,
) -> Scene: ...


@overload
def parse(
    text: str | bytes | bytearray | memoryview,
    *,
    dialect: str = "dslkit",
    errors: Literal["collect"],
    contract: ContractLike = DEFAULT_CONTRACT,
    max_chars: int = DEFAULT_MAX_CHARS,
    max_depth: int = DEFAULT_MAX_DEPTH,
) -> ParseResult: ...


def parse(
    text: str | bytes | bytearray | memoryview,
    *,
    dialect: str = "dslkit",
    errors: str = "raise",
    contract: ContractLike = DEFAULT_CONTRACT,
    max_chars: int = DEFAULT_MAX_CHARS,
    max_depth: int = DEFAULT_MAX_DEPTH,
) -> Scene | ParseResult:
    """Parse scene text written in ``dialect`` into the one typed AST.

    Args:
        text: the program (``str``, or UTF-8 ``bytes``).
        dialect: ``"dslkit"`` (block, row or a mix; the default), ``"auto"`` (recognise dslkit
            or a CKE dialect from the text), ``"cke"`` (any CKE dialect), or ``"d1"``-``"d6"``.
        errors: ``"raise"`` raises on any problem; ``"collect"`` recovers and returns a
            :class:`~scene_dsl.parser.ParseResult` with every diagnostic.
        contract: contract name, path or object (default v2).
        max_chars: inputs longer than this are rejected.
        max_depth: maximum block nesting.

    Returns:
        The :class:`Scene` (``errors="raise"``) or a ``ParseResult`` (``"collect"``).

    Raises:
        SceneSyntaxError: the text does not parse, or (CKE dialects) mixes dialects (S111),
            names an unknown component (S304) or gives a d4 slug where a ref is needed (S316).
        LimitExceededError: the input is longer than ``max_chars`` or nests deeper than
            ``max_depth``.
        ValueError: ``dialect`` or ``errors`` is not one of the names above.
    """
    if dialect not in READ_DIALECTS:
        raise ValueError(f"dialect must be one of {', '.join(READ_DIALECTS)}, not {dialect!r}")
    if errors not in ("raise", "collect"):
        raise ValueError(f"errors must be 'raise' or 'collect', not {errors!r}")
    spec = load_contract(contract)
    if dialect == "dslkit":
        return _read_dslkit(text, errors, spec, max_chars, max_depth)
    source = _parser._decode(text)
    if dialect in ("auto", "cke"):
        sub = recognize(source) if dialect == "auto" else recognize_cke(source)
        if sub == "dslkit":
            return _read_dslkit(source, errors, spec, max_chars, max_depth)
    else:
        sub = dialect
    return _read_cke(source, sub, errors, spec, max_chars, max_depth)


def _read_dslkit(
    text: str | bytes | bytearray | memoryview,
    errors: str,
    spec: Contract,
    max_chars: int,
    max_depth: int,
) -> Scene | ParseResult:
    if errors == "raise":
        return _parser.parse(text, contract=spec, max_chars=max_chars, max_depth=max_depth)
    return _parser.parse(
        text, errors="collect", contract=spec, max_chars=max_chars, max_depth=max_depth
    )


def _read_cke(
    source: str, sub: str, errors: str, spec: Contract, max_chars: int, max_depth: int
) -> Scene | ParseResult:
    dspec = _dialect_contract(spec, sub)
    if errors == "raise":
        scene = _parser.parse(source, contract=dspec, max_chars=max_chars, max_depth=max_depth)
        scene, found = _CkeReader(source, sub, spec).finish(scene)
        problems = [d for d in found if d.is_error]
        if problems:
            raise SceneSyntaxError.from_diagnostics(problems)
        return scene
    result = _parser.parse(
        source, errors="collect", contract=dspec, max_chars=max_chars, max_depth=max_depth
    )
    if result.scene is None:
        return result
    scene, found = _CkeReader(source, sub, spec).finish(result.scene)
    diags = sorted([*result.diagnostics, *found], key=lambda d: (d.line, d.column))
    return ParseResult(scene, tuple(diags))


def _map_tree(
    comps: tuple[Component, ...], fn: Callable[[Component, tuple[Component, ...], bool], Component]
) -> tuple[Component, ...]:
    """Rebuild a component forest bottom-up with ``fn(comp, new_children, top)``.

    Iterative (post-order with an explicit stack): the parser accepts nesting as deep as
    ``max_depth`` allows, and a recursive walk would overflow long before 10,000 levels.
    """
    out: list[Component] = []
    results: list[list[Component]] = [out]  # one list of rebuilt children per open component
    stack: list[tuple[Component, bool, bool]] = [(c, True, False) for c in reversed(comps)]
    while stack:
        comp, top, done = stack.pop()
        if not done:
            stack.append((comp, top, True))
            results.append([])
            stack.extend((c, False, False) for c in reversed(comp.children))
            continue
        children = tuple(results.pop())
        results[-1].append(fn(comp, children, top))
    return tuple(out)


def _in_contract_order(fields: tuple[Field, ...], cspec: ComponentSpec) -> tuple[Field, ...]:
    # A renamed accent can land out of the contract's field order; a row token has no order
    # of its own, so it takes the contract's (repeated fields keep theirs).
    last = len(cspec.fields)
    return tuple(sorted(fields, key=lambda f: cspec.field_index.get(f.name, last)))


class _CkeReader:
    """What a CKE reading adds to the dslkit parse of the same tokens (positions kept)."""

    def __init__(self, text: str, sub: str, spec: Contract) -> None:
        self.text = text
        self.sub = sub
        self.spec = spec
        self.found: list[Diagnostic] = []

    def finish(self, scene: Scene) -> tuple[Scene, list[Diagnostic]]:
        attrs = self._unknown_rows(scene)
        comps = _map_tree(scene.components, self._component)
        attrs = _with_cke_defaults(attrs, self.spec)
        return replace(scene, attrs=attrs, components=comps), self.found

    def _report(self, code: str, message: str, offset: int) -> None:
        self.found.append(diag(code, message, text=self.text, offset=offset))

    def _is_row(self, comp: Component) -> bool:
        if comp.span is None:
            return False
        at = comp.span.start + 1 + len(comp.name)
        return self.text[at : at + 1] == ":"

    def _unknown_rows(self, scene: Scene) -> tuple[Attr, ...]:
        # CKE writes every attribute before the first component; a [name:...] token after one
        # whose name is no attribute is a component this contract does not know. The dslkit
        # parser could only keep it as an attribute (S302), which hides what it is.
        first = min((c.span.start for c in scene.components if c.span is not None), default=-1)
        keep: list[Attr] = []
        for a in scene.attrs:
            if (
                a.span is not None
                and first >= 0
                and a.span.start > first
                and self.spec.attribute(a.key) is None
            ):
                self._report(
                    "S304",
                    f"unknown component [{a.key}:...] in a {_NAMES[self.sub]} file",
                    a.span.start,
                )
                continue
            keep.append(a)
        return tuple(keep)

    def _component(self, comp: Component, children: tuple[Component, ...], top: bool) -> Component:
        cspec = self.spec.components.get(comp.name)
        row = self._is_row(comp)
        if top and comp.span is not None:
            if self.sub in BLOCK_DIALECTS and row:
                self._report(
                    "S111",
                    f"[{comp.name}:...] is a row token (D1-D4 surface) in a "
                    f"{_NAMES[self.sub]} file: the file mixes dialects",
                    comp.span.start,
                )
            elif self.sub not in BLOCK_DIALECTS and not row:
                self._report(
                    "S111",
                    f"[{comp.name}] opens a block (D5/D6 surface) in a "
                    f"{_NAMES[self.sub]} file: the file mixes dialects",
                    comp.span.start,
                )
        if cspec is None:
            if comp.span is not None and not row:
                # A row token naming no component reads as an attribute (reported in
                # _unknown_rows); a block cannot, so it is reported here, where it opens.
                self._report(
                    "S304",
                    f"unknown component [{comp.name}] in a {_NAMES[self.sub]} file",
                    comp.span.start,
                )
            return replace(comp, children=children)
        fields = comp.fields
        if row:
            fields = self._row_fields(comp, cspec)
        if fields is not comp.fields:
            fields = _in_contract_order(fields, cspec)
        if self.sub == "d4":
            for f in fields:
                fspec = cspec.field(f.name)
                if fspec is not None and fspec.kind == "ref":
                    self._report(
                        "S316",
                        f"{comp.name}.{f.name}: {f.value!r} is a D4 literal slug where a content "
                        f"ref is required (D4 has no content.json; it writes display text only "
                        f"in header_band, section_card, compare_bar, stage_card and footer_note)",
                        f.span.start if f.span else (comp.span.start if comp.span else 0),
                    )
        return replace(comp, fields=fields, children=children)

    def _value_start(self, f: Field) -> int:
        """Offset of the value of a row part (after ``key=`` for a named part)."""
        assert f.span is not None
        start = f.span.start
        text = self.text
        end = len(text)
        for stop in ("|", "]"):
            i = text.find(stop, start)
            if 0 <= i < end:
                end = i
        eq = text.find("=", start, end)
        return eq + 1 if eq >= 0 else start

    def _row_fields(self, comp: Component, cspec: ComponentSpec) -> tuple[Field, ...]:
        out: list[Field] = []
        changed = False
        for f in comp.fields:
            if f.span is None:
                out.append(f)
                continue
            where = f.span.start
            value_at = self._value_start(f)
            at = self.text[value_at : value_at + 1] == "@"
            fspec = cspec.field(f.name)
            if at and f.name == "accent" and cspec.field("accent_ref") is not None:
                # `accent=@bars.a.accent`: the accent is read from content (d3).
                f = replace(f, name="accent_ref")
                fspec = cspec.field("accent_ref")
                changed = True
            if self.sub == "d3":
                if fspec is not None and fspec.kind == "ref" and not at:
                    self._report(
                        "S111",
                        f"{comp.name}.{f.name}: bare part {f.value!r} in a {_NAMES['d3']} file, "
                        f"which writes every content ref as @path: the file mixes D3 with "
                        f"D1/D2 rows",
                        where,
                    )
            elif at:
                self._report(
                    "S111",
                    f"{comp.name}.{f.name}: @-ref part (D3 surface) in a {_NAMES[self.sub]} "
                    f"file: the file mixes dialects",
                    where,
                )
            out.append(f)
        return tuple(out) if changed else comp.fields


def _with_cke_defaults(attrs: tuple[Attr, ...], spec: Contract) -> tuple[Attr, ...]:
    """``attrs`` plus, marked implicit, the CKE default of every attribute they leave out."""
    layout = next((a.value for a in attrs if a.key == "layout"), None)
    defaults = cke.DEFAULTS.get(layout or "")
    if not defaults:
        return attrs
    present = {a.key for a in attrs}
    filled = [
        Attr(a.name, defaults[a.name], implicit=True)
        for a in spec.attributes
        if a.name in defaults and a.name not in present
    ]
    if not filled:
        return attrs
    # Canonical order, so a canonical scene written without them reads back equal.
    return tuple(sorted((*attrs, *filled), key=lambda a: spec.attribute_rank(a.key)))


def fill_cke_defaults(scene: Scene, contract: ContractLike = DEFAULT_CONTRACT) -> Scene:
    """``scene`` with every attribute it omits set to the CKE renderer default for its layout.

    This is what a CKE reader does on read; the filled attributes are marked implicit, so a
    CKE writer leaves them out again and ``parse(to_text(s, dialect="cke"), dialect="cke")``
    gives ``fill_cke_defaults(s)`` back for any canonical ``s``.
    """
    return replace(scene, attrs=_with_cke_defaults(scene.attrs, load_contract(contract)))


# -- writing ------------------------------------------------------------------------------------
def to_text(
    scene: Scene,
    *,
    dialect: str = "dslkit",
    form: str = "block",
    inline: bool = False,
    contract: ContractLike = DEFAULT_CONTRACT,
) -> str:
    """Write ``scene`` as text in ``dialect``.

    Args:
        scene: the AST to print (call :func:`scene_dsl.canonicalize` first for canonical text).
        dialect: ``"dslkit"`` (``form`` and ``inline`` apply), ``"cke"`` (the CKE dialect of
            the layout: d4 for poster/dashboard/timeline_flow scenes without content refs, d3
            for those with refs and for comparison_span_chart, d5 blocks for scenes with nested
            blocks, d1/d2 id/ref rows otherwise), or ``"d1"``-``"d6"``. CKE text has one
            token per line and leaves out attributes a CKE reader filled in (except layout,
            theme and tone, which every CKE file spells).
        form: ``"block"`` or ``"row"`` (dslkit only).
        inline: one line with single spaces (dslkit only).
        contract: contract name, path or object.

    Returns:
        The text; ``parse(to_text(s, dialect=d), dialect=d) == s`` for canonical scenes the
        dialect can express.

    Raises:
        ValueError: an unknown dialect, or a row dialect asked to write nested blocks.
    """
    if dialect not in WRITE_DIALECTS:
        raise ValueError(f"dialect must be one of {', '.join(WRITE_DIALECTS)}, not {dialect!r}")
    spec = load_contract(contract)
    if dialect == "dslkit":
        return _dslkit_text(scene, form=form, inline=inline, contract=spec)
    sub = _choose_cke(scene, spec) if dialect == "cke" else dialect
    # Every CKE file spells layout, theme and tone (auto recognition looks for them), so those
    # are written even when a reader filled them in.
    written = [a for a in scene.attrs if not a.implicit or a.key in _CKE_ALWAYS]
    lines = ["[scene]", *(f"[{a.key}:{a.value}]" for a in _source_order(written))]
    if sub in BLOCK_DIALECTS:
        for comp in scene.components:
            _block_lines(comp, spec, lines)
    else:
        dspec = _dialect_contract(spec, sub)
        for comp in scene.components:
            if comp.children:
                raise ValueError(
                    f"{_NAMES[sub]} has no nested blocks ({comp.name} has children): "
                    "write it as d5, or as dialect='cke'"
                )
            lines.append(_row_token(comp, dspec, at=sub == "d3"))
    lines.append("[/scene]")
    return "\n".join(lines) + "\n"


def _source_order(attrs: list[Attr]) -> list[Attr]:
    """Attributes in the order their source wrote them, when every one was read from a source
    (its span rides along, as LibCST keeps layout trivia), else as given (canonical order).

    Attribute order is a habit of each CKE file, not of a dialect: some D2/D6 files put
    ``density`` before ``frame``, others ``frame`` first. Spans are excluded from equality, so
    the order is trivia: written back, never compared.
    """
    if attrs and all(a.span is not None for a in attrs):
        return sorted(attrs, key=lambda a: a.span.start if a.span is not None else 0)
    return attrs


def _has_ref(scene: Scene, spec: Contract) -> bool:
    for comp in scene.walk():
        cspec = spec.components.get(comp.name)
        for f in comp.fields:
            fspec = cspec.field(f.name) if cspec is not None else None
            if fspec is not None and fspec.kind == "ref":
                return True
    return False


def _choose_cke(scene: Scene, spec: Contract) -> str:
    if any(c.children for c in scene.components):
        return "d5"
    layout = scene.layout or ""
    if layout in cke.D4_LAYOUTS:
        return "d3" if _has_ref(scene, spec) else "d4"
    if layout == "comparison_span_chart" and _has_ref(scene, spec):
        return "d3"
    return "d1" if layout in cke.GEN1_LAYOUTS else "d2"


def _row_token(comp: Component, dspec: Contract, *, at: bool) -> str:
    cspec = dspec.components.get(comp.name)
    if cspec is None:  # not in the contract: write the fields by name, as read
        body = "|".join(f"{f.name}={f.value}" for f in comp.fields)
        return f"[{comp.name}:{body}]"
    sig = cspec.row_signature(Counter(f.name for f in comp.fields))
    remaining = list(comp.fields)
    parts: list[str] = []
    if sig is not None:
        for i, names in enumerate(sig.parts):
            taken = [_take(remaining, n) for n in names]
            parts.append("->".join(_show(f, cspec, at) for f in taken))
            if sig.variadic and i == len(sig.parts) - 1:
                while any(f.name == names[0] for f in remaining):
                    parts.append(_show(_take(remaining, names[0]), cspec, at))
    for f in remaining:
        fspec = cspec.field(f.name)
        key = fspec.row_key if fspec is not None else f.name
        if at and f.name == "accent_ref":
            key = "accent"  # d3 spells a content accent `accent=@P`
        parts.append(f"{key}={_show(f, cspec, at)}")
    return f"[{comp.name}:{'|'.join(parts)}]"


def _show(f: Field, cspec: ComponentSpec, at: bool) -> str:
    fspec: FieldSpec | None = cspec.field(f.name)
    return "@" + f.value if at and fspec is not None and fspec.kind == "ref" else f.value


def _block_lines(comp: Component, spec: Contract, out: list[str]) -> None:
    cspec = spec.components.get(comp.name)
    spelling = {field: alias for alias, field in cspec.aliases.items()} if cspec else {}
    out.append(f"[{comp.name}]")
    out.extend(f"[{spelling.get(f.name, f.name)}:{f.value}]" for f in comp.fields)
    for child in comp.children:
        _block_lines(child, spec, out)
    out.append(f"[/{comp.name}]")
