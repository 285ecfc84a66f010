"""The drawing context of one compile: SVG element writer, placed boxes, fitted text, content.

Everything a layout draws goes through :class:`Ctx`, which

- writes SVG elements with fixed number formatting and escaped text (so output is
  deterministic and well-formed whatever the content holds),
- records every placed panel, card and text box (:class:`Box`) for the geometric tests,
- fits text into boxes with the pinned font metrics and records S701/S702 warnings,
- hands out content :class:`Item` readers and reports content keys nothing read (S703).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from dslkit.compilers.codes import diag
from dslkit.compilers.scene_svg.text import (
    ASCENT,
    DESCENT,
    FONT,
    MONO_FONT,
    clean_text,
    fit_text,
    measure_text,
)
from dslkit.compilers.scene_svg.theme import TONES, Style

from dslkit.errors import CompileError, Diagnostic
from scene_dsl.ast import Component
from scene_dsl.diagnostics import diag as scene_diag  # S603: bad content is the scene's code

__all__ = ["MAX_CONTENT_NUMBER", "Box", "Ctx", "Item", "Rect", "Section", "num", "parse_number"]

LINE_HEIGHT = 1.28  # line pitch as a multiple of the font size
# Largest magnitude a content number may have to be drawn (bar lengths, axis ends, segment
# sizes). Far beyond any real quantity a diagram shows, and small enough that sums, spans and
# ratios of such numbers stay finite floats, so every coordinate derived from them is finite.
MAX_CONTENT_NUMBER = 1e15


def num(x: float) -> str:
    """Fixed formatting for every coordinate: at most 2 decimals, no trailing zeros.

    Raises:
        CompileError: S704 when ``x`` is not finite; no SVG ever carries ``nan`` or ``inf``.
    """
    s = f"{x:.2f}".rstrip("0").rstrip(".")
    if s[-1] in "nf":  # "nan", "inf", "-inf": the last line of defence for coordinates
        raise CompileError.from_diagnostics(
            [diag("S704", f"a coordinate came out as {s}; the SVG was not written")]
        )
    return "0" if s in ("-0", "") else s


@dataclass(frozen=True, slots=True)
class Rect:
    """An axis-aligned rectangle in canvas px."""

    x: float
    y: float
    w: float
    h: float

    @property
    def r(self) -> float:
        return self.x + self.w

    @property
    def b(self) -> float:
        return self.y + self.h

    @property
    def cx(self) -> float:
        return self.x + self.w / 2

    @property
    def cy(self) -> float:
        return self.y + self.h / 2

    def inset(self, dx: float, dy: float | None = None) -> Rect:
        dy = dx if dy is None else dy
        if dx > 0:  # never push the inner rectangle past the outer one
            dx = min(dx, self.w / 2)
        if dy > 0:
            dy = min(dy, self.h / 2)
        return Rect(self.x + dx, self.y + dy, max(0.0, self.w - 2 * dx), max(0.0, self.h - 2 * dy))

    def take_top(self, h: float, gap: float = 0.0) -> tuple[Rect, Rect]:
        """Split off the top ``h`` px; return (top, rest below the gap)."""
        h = min(h, self.h)
        rest_h = max(0.0, self.h - h - gap)
        return Rect(self.x, self.y, self.w, h), Rect(self.x, self.b - rest_h, self.w, rest_h)

    def take_bottom(self, h: float, gap: float = 0.0) -> tuple[Rect, Rect]:
        """Split off the bottom ``h`` px; return (bottom, rest above the gap)."""
        h = min(h, self.h)
        rest_h = max(0.0, self.h - h - gap)
        return Rect(self.x, self.b - h, self.w, h), Rect(self.x, self.y, self.w, rest_h)

    def take_left(self, w: float, gap: float = 0.0) -> tuple[Rect, Rect]:
        w = min(w, self.w)
        rest_w = max(0.0, self.w - w - gap)
        return Rect(self.x, self.y, w, self.h), Rect(self.r - rest_w, self.y, rest_w, self.h)

    def take_right(self, w: float, gap: float = 0.0) -> tuple[Rect, Rect]:
        w = min(w, self.w)
        rest_w = max(0.0, self.w - w - gap)
        return Rect(self.r - w, self.y, w, self.h), Rect(self.x, self.y, rest_w, self.h)

    def columns(self, n: int, gap: float) -> list[Rect]:
        """``n`` equal columns separated by ``gap``."""
        n = max(1, n)
        gap = min(gap, self.w / (n - 1)) if n > 1 else 0.0
        w = max(0.0, (self.w - gap * (n - 1)) / n)
        return [Rect(self.x + i * (w + gap), self.y, w, self.h) for i in range(n)]

    def rows(self, n: int, gap: float) -> list[Rect]:
        """``n`` equal rows separated by ``gap``."""
        n = max(1, n)
        gap = min(gap, self.h / (n - 1)) if n > 1 else 0.0
        h = max(0.0, (self.h - gap * (n - 1)) / n)
        return [Rect(self.x, self.y + i * (h + gap), self.w, h) for i in range(n)]

    def rows_weighted(self, weights: list[float], gap: float) -> list[Rect]:
        """Rows with heights proportional to ``weights``."""
        total = sum(weights) or 1.0
        if len(weights) > 1:
            gap = min(gap, self.h / (len(weights) - 1))
        free = max(0.0, self.h - gap * (len(weights) - 1))
        out: list[Rect] = []
        y = self.y
        for w in weights:
            h = free * w / total
            out.append(Rect(self.x, y, self.w, h))
            y += h + gap
        return out


@dataclass(frozen=True, slots=True)
class Box:
    """A placed panel, card or text box (what the geometric invariant tests check)."""

    id: str  # element id in the SVG (derived from the scene)
    kind: str  # "panel" | "card" | "text"
    x: float
    y: float
    w: float
    h: float
    parent_id: str | None  # enclosing box, None for top-level regions


@dataclass(slots=True)
class Section:
    """One block of text in a stack (title, value, body...)."""

    role: str  # content role, for warnings
    text: str
    size: float
    color: str
    weight: str = "normal"
    mono: bool = False
    max_lines: int = 2
    gap: float = 6.0  # space below this section
    anchor: str = "start"  # "start" | "middle" | "end"


_NUM = re.compile(r"[-+]?\d[\d,]*(?:\.\d+)?|[-+]?\.\d+")


def parse_number(value: Any) -> float | None:
    """The first number in a content value (``"42 ms"`` -> 42.0), or None when it holds none.

    Raises:
        CompileError: S603 when the number is NaN, infinite or larger in magnitude than
            :data:`MAX_CONTENT_NUMBER` (``1e308``, a 400-digit string): geometry is computed
            from it, and such a number has no finite drawing.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        # compare as int first: float() of a 400-digit int raises OverflowError
        found = float(value) if abs(value) <= MAX_CONTENT_NUMBER else math.inf
    elif isinstance(value, float):
        found = value
    elif isinstance(value, str):
        m = _NUM.search(value)
        if m is None:
            return None
        found = float(m.group(0).replace(",", ""))  # digits only: a long run gives inf
    else:
        return None
    if not abs(found) <= MAX_CONTENT_NUMBER:  # also catches NaN
        raise CompileError.from_diagnostics(
            [
                scene_diag(
                    "S603",
                    f"content number {_shown(value)} is not finite or exceeds "
                    f"{MAX_CONTENT_NUMBER:g} in magnitude; it cannot be drawn",
                )
            ]
        )
    return found


def _shown(value: Any) -> str:
    """A short repr for messages; an int too long for str() is described by its size."""
    if isinstance(value, int) and value.bit_length() > 3000:
        return f"<an integer of about {int(value.bit_length() * 0.30103)} digits>"
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _scalar_text(value: Any) -> str | None:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, str):
        return clean_text(value)
    return None


# field name -> content role (a field's own ref names the role directly)
_ROLE_ALIASES = {
    "block_title_ref": "title",
    "block_caption_ref": "caption",
    "branch_label_ref": "label",
    "item_ref": "items",
    "line_ref": "lines",
    "cell_ref": "cells",
    # the per-leaf fields of CKE's verbose blocks, named for the list they fill
    "offset_ref": "items",
    "subregion_ref": "parts",
    "bullet_ref": "items",
    "code_ref": "lines",
}


def humanize(slug: str) -> str:
    """A literal slug as display words: ``memory_bandwidth`` -> ``Memory Bandwidth``."""
    words = [w for w in re.split(r"[_\-]+", slug) if w]
    return " ".join(w[:1].upper() + w[1:] for w in words)


class Item:
    """Content of one component, read by role.

    A component's ``ref`` field points at an object whose keys are roles (title, body, ...),
    or at a plain string (its primary text) or a list (its items); specific ``*_ref`` fields
    point at one value each and win over the object's keys. Every role a layout asks for is
    marked read; whatever is left is reported as S703 at the end of the compile.
    """

    __slots__ = ("children", "comp", "index", "paths", "roles", "taken")

    def __init__(
        self, comp: Component, values: dict[str, Any], ref_kinds: dict[str, str], index: int
    ) -> None:
        self.comp = comp
        self.index = index
        self.roles: dict[str, Any] = {}
        self.paths: dict[str, str] = {}
        self.taken: set[str] = set()
        self.children: list[Item] = []  # sub-objects handed out by child(); their keys count too
        main = comp.get("ref")
        if main is not None:
            value = values.get(main)
            if isinstance(value, dict):
                for k in value:
                    self.roles[str(k)] = value[k]
                    self.paths[str(k)] = f"{main}.{k}"
            elif isinstance(value, list):
                self.roles["items"] = value
                self.paths["items"] = main
            elif value is not None:
                self.roles["_primary"] = value
                self.paths["_primary"] = main
        lists: dict[str, list[Any]] = {}
        counts: dict[str, int] = {}
        for f in comp.fields:
            counts[f.name] = counts.get(f.name, 0) + 1
        for f in comp.fields:
            if ref_kinds.get(f.name) == "text" and f.name.endswith("_text"):
                # literal display text written in the scene (a slug, CKE's D4): shown as words
                role = _ROLE_ALIASES.get(f.name[:-5] + "_ref", f.name[:-5])
                if role not in self.roles:
                    self.roles[role] = humanize(str(f.value))
                    self.paths[role] = f"[{f.name}:{f.value}]"  # so S703 can name it too
                continue
            if f.name == "ref" or ref_kinds.get(f.name) != "ref":
                continue
            role = _ROLE_ALIASES.get(f.name, f.name[:-4] if f.name.endswith("_ref") else f.name)
            if role in ("items", "lines", "cells", "parts", "detail") or counts[f.name] > 1:
                # repeated fields (one per list entry) make a list, in source order
                lists.setdefault(role, []).append(values.get(f.value))
                self.paths.setdefault(role, f.value)
                continue
            value = values.get(f.value)
            if isinstance(value, dict) and role in value:
                # an object label ({label: ...} behind label_ref): its own key is the text and
                # its other keys are further roles, as if the ref pointed at the object
                for k in value:
                    key = str(k)
                    if key == role or key not in self.roles:
                        self.roles[key] = value[k]
                        self.paths[key] = f"{f.value}.{key}"
                continue
            self.roles[role] = value
            self.paths[role] = f.value
        for role, vals in lists.items():
            self.roles[role] = vals

    @property
    def name(self) -> str:
        return self.comp.name

    def has(self, *roles: str) -> bool:
        return any(self.roles.get(r) is not None for r in roles)

    def text(self, *roles: str, primary: bool = True) -> str | None:
        """First present role among ``roles`` as text (the ref's bare string last)."""
        for role in (*roles, "_primary") if primary else roles:
            value = self.roles.get(role)
            if value is None:
                continue
            if isinstance(value, list):
                parts = [t for t in (_scalar_text(v) for v in value) if t]
                self.taken.add(role)
                return " \u00b7 ".join(parts) if parts else None
            text = _scalar_text(value)
            if text is not None:
                self.taken.add(role)
                return text
        return None

    def pick(self, *roles: str, primary: bool = True, lists: bool = False) -> str | None:
        """The role :meth:`text` (or, with ``lists``, :meth:`texts`) would read; marks nothing.

        Lets a drawer that reads several roles know which one it used, call after call."""
        for role in (*roles, "_primary") if primary and not lists else roles:
            value = self.roles.get(role)
            if value is None:
                continue
            if lists:
                if isinstance(value, list) or _scalar_text(value):
                    return role
                continue
            if isinstance(value, list):
                if any(_scalar_text(v) for v in value):
                    return role
                return None
            if _scalar_text(value) is not None:
                return role
        return None

    def texts(self, *roles: str) -> list[str]:
        """A list role (bullets, items, lines...) as a list of texts."""
        for role in roles:
            value = self.roles.get(role)
            if isinstance(value, list):
                self.taken.add(role)
                return [t for t in (_scalar_text(v) for v in value) if t]
            if value is not None and _scalar_text(value):
                self.taken.add(role)
                return [str(_scalar_text(value))]
        return []

    def rows(self, role: str = "rows") -> list[list[str]]:
        """A list of lists (table rows); a row object ``{cells, state}`` gives its cells."""
        return [cells for cells, _ in self.state_rows(role)]

    def state_rows(self, role: str = "rows") -> list[tuple[list[str], str | None]]:
        """Table rows with their state: ``[[...], ...]`` rows have none, ``{cells, state}``
        rows (the CKE compact shape) carry theirs."""
        value = self.roles.get(role)
        out: list[tuple[list[str], str | None]] = []
        if isinstance(value, list):
            self.taken.add(role)
            for row in value:
                if isinstance(row, list):
                    out.append(([_scalar_text(c) or "" for c in row], None))
                elif isinstance(row, dict) and isinstance(row.get("cells"), list):
                    state = row.get("state")
                    out.append(
                        (
                            [_scalar_text(c) or "" for c in row["cells"]],
                            state if isinstance(state, str) else None,
                        )
                    )
                elif isinstance(row, dict):
                    out.append(([_scalar_text(c) or "" for c in row.values()], None))
                else:
                    out.append(([_scalar_text(row) or ""], None))
        return out

    def child(self, role: str) -> Item | None:
        """The object under ``role`` (a pair's ``left``) as an item of its own, or None.

        Keys of the child that nothing reads are reported with the parent's component."""
        value = self.roles.get(role)
        if not isinstance(value, dict):
            return None
        self.taken.add(role)
        sub = Item.__new__(Item)
        sub.comp = self.comp
        sub.index = self.index
        sub.roles = {str(k): value[k] for k in value}
        base = self.paths.get(role, role)
        sub.paths = {str(k): f"{base}.{k}" for k in value}
        sub.taken = set()
        sub.children = []
        self.children.append(sub)
        return sub

    def raw(self, role: str) -> Any:
        value = self.roles.get(role)
        if value is not None:
            self.taken.add(role)
        return value

    def tone(self) -> str | None:
        """Accent of this item: the component's accent field, else the content's ``accent``."""
        field_accent = self.comp.get("accent")
        content_accent = self.roles.get("accent")
        if content_accent is not None:
            self.taken.add("accent")
        if field_accent in TONES:
            return field_accent
        return content_accent if content_accent in TONES else None

    def state(self) -> str:
        """row_state field, else the content's ``state``, else normal."""
        st = self.comp.get("row_state")
        content_state = self.roles.get("state")
        if content_state is not None:
            self.taken.add("state")
        return st or (content_state if isinstance(content_state, str) else "normal")

    def variant(self) -> str:
        return self.comp.get("variant") or "default"

    def unread(self) -> list[tuple[str, str]]:
        """(role, content path) pairs nothing read."""
        own = [(r, self.paths[r]) for r in self.roles if r not in self.taken and r in self.paths]
        return own + [pair for c in self.children for pair in c.unread()]


@dataclass
class Ctx:
    """Mutable state of one compile. Layouts draw through it; nothing else is global."""

    style: Style
    prefix: str  # id prefix derived from the scene, so two SVGs inline in one page never clash
    values: dict[str, Any]
    ref_kinds: dict[str, dict[str, str]]  # component -> field -> kind
    parts: list[str] = field(default_factory=list)
    defs: dict[str, str] = field(default_factory=dict)
    boxes: list[Box] = field(default_factory=list)
    warnings: list[Diagnostic] = field(default_factory=list)
    items: list[Item] = field(default_factory=list)
    # component id (stage_id, node_id...) -> its placed card, for annotations that point at it
    anchors: dict[str, Rect] = field(default_factory=dict)
    # per-compile state of layout helpers (e.g. the spatial index edge labels keep clear of)
    caches: dict[str, Any] = field(default_factory=dict)
    _ids: dict[str, int] = field(default_factory=dict)
    _warned: set[tuple[str, str, str]] = field(default_factory=set)

    # ---- ids, items -------------------------------------------------------------------
    def new_id(self, stem: str) -> str:
        """A fresh element id: prefix, stem and a per-stem counter (scene order, so stable)."""
        n = self._ids.get(stem, 0)
        self._ids[stem] = n + 1
        return f"{self.prefix}-{stem}{n}"

    def comp_id(self, comp: Component) -> str:
        """The topology id a component declares: its first field the contract types ``id``
        (node_id, stage_id, panel_id...), or "" when it declares none."""
        kinds = self.ref_kinds.get(comp.name, {})
        for f in comp.fields:
            if kinds.get(f.name) == "id" and f.value:
                return str(f.value)
        return ""

    def ends(self, comp: Component) -> tuple[str, str]:
        """(from, to) ids of an edge-like component: its first two ``idref`` fields."""
        kinds = self.ref_kinds.get(comp.name, {})
        refs = [str(f.value) for f in comp.fields if kinds.get(f.name) == "idref" and f.value]
        return (refs[0] if refs else "", refs[1] if len(refs) > 1 else "")

    def item(self, comp: Component) -> Item:
        item = Item(comp, self.values, self.ref_kinds.get(comp.name, {}), len(self.items))
        self.items.append(item)
        return item

    # ---- raw SVG --------------------------------------------------------------------------
    def add(self, svg: str) -> None:
        self.parts.append(svg)

    def box(self, bid: str, kind: str, r: Rect, parent: str | None) -> None:
        self.boxes.append(
            Box(bid, kind, round(r.x, 2), round(r.y, 2), round(r.w, 2), round(r.h, 2), parent)
        )

    def rect(
        self,
        r: Rect,
        *,
        fill: str = "none",
        stroke: str | None = None,
        rx: float = 0.0,
        sw: float = 1.0,
        dash: str | None = None,
        opacity: float | None = None,
        bid: str | None = None,
        extra: str = "",
    ) -> None:
        a = f'<rect x="{num(r.x)}" y="{num(r.y)}" width="{num(r.w)}" height="{num(r.h)}"'
        if bid:
            a += f' id="{bid}"'
        if rx:
            a += f' rx="{num(rx)}"'
        a += f' fill="{fill}"'
        if stroke:
            a += f' stroke="{stroke}" stroke-width="{num(sw)}"'
        if dash:
            a += f' stroke-dasharray="{dash}"'
        if opacity is not None:
            a += f' opacity="{num(opacity)}"'
        self.parts.append(a + extra + "/>")

    def line(
        self,
        x1: float,
        y1: float,
        x2: float,
        y2: float,
        *,
        stroke: str,
        sw: float = 1.0,
        dash: str | None = None,
        opacity: float | None = None,
        cap: str | None = None,
    ) -> None:
        a = f'<line x1="{num(x1)}" y1="{num(y1)}" x2="{num(x2)}" y2="{num(y2)}" stroke="{stroke}" stroke-width="{num(sw)}"'
        if dash:
            a += f' stroke-dasharray="{dash}"'
        if opacity is not None:
            a += f' opacity="{num(opacity)}"'
        if cap:
            a += f' stroke-linecap="{cap}"'
        self.parts.append(a + "/>")

    def path(
        self,
        d: str,
        *,
        stroke: str = "none",
        fill: str = "none",
        sw: float = 1.0,
        dash: str | None = None,
        opacity: float | None = None,
        marker: str | None = None,
        join: str | None = "round",
    ) -> None:
        a = f'<path d="{d}" fill="{fill}" stroke="{stroke}" stroke-width="{num(sw)}"'
        if join:
            a += f' stroke-linejoin="{join}" stroke-linecap="round"'
        if dash:
            a += f' stroke-dasharray="{dash}"'
        if opacity is not None:
            a += f' opacity="{num(opacity)}"'
        if marker:
            a += f' marker-end="url(#{marker})"'
        self.parts.append(a + "/>")

    def circle(
        self,
        cx: float,
        cy: float,
        r: float,
        *,
        fill: str,
        stroke: str | None = None,
        sw: float = 1.0,
        opacity: float | None = None,
    ) -> None:
        a = f'<circle cx="{num(cx)}" cy="{num(cy)}" r="{num(r)}" fill="{fill}"'
        if stroke:
            a += f' stroke="{stroke}" stroke-width="{num(sw)}"'
        if opacity is not None:
            a += f' opacity="{num(opacity)}"'
        self.parts.append(a + "/>")

    def open_group(self, gid: str, label: str | None = None, extra: str = "") -> None:
        a = f'<g id="{gid}"'
        if label:
            a += f' role="group" aria-label={quoteattr(clean_text(label)[:200])}'
        self.parts.append(a + extra + ">")

    def close_group(self) -> None:
        self.parts.append("</g>")

    def gradient(self, tone_color: str, soft: str, vertical: bool = False) -> str:
        """Id of a linear gradient from ``soft`` to ``tone_color`` (defined once)."""
        key = f"grad:{soft}:{tone_color}:{vertical}"
        if key not in self.defs:
            gid = self.new_id("grad")
            x2, y2 = ("0", "1") if vertical else ("1", "0")
            self.defs[key] = (
                f'<linearGradient id="{gid}" x1="0" y1="0" x2="{x2}" y2="{y2}">'
                f'<stop offset="0" stop-color="{soft}"/><stop offset="1" stop-color="{tone_color}"/>'
                "</linearGradient>"
            )
        return self.defs[key].split('"', 2)[1]

    def marker(self, color: str) -> str:
        """Id of an arrowhead marker in ``color`` (defined once per colour)."""
        key = f"marker:{color}"
        if key not in self.defs:
            mid = self.new_id("arrow")
            self.defs[key] = (
                f'<marker id="{mid}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
                f'markerHeight="7" orient="auto" markerUnits="userSpaceOnUse">'
                f'<path d="M0 0 L10 5 L0 10 z" fill="{color}"/></marker>'
            )
        return self.defs[key].split('"', 2)[1]

    # ---- text --------------------------------------------------------------------------
    def warn(self, code: str, comp: Component | None, role: str, message: str) -> None:
        who = f"{comp.name}.{role}" if comp else role
        span = (comp.span.line, comp.span.column) if comp is not None and comp.span else (0, 0)
        key = (code, who, f"{span[0]}:{span[1]}")
        if key in self._warned:  # one warning per component role, not per redraw
            return
        self._warned.add(key)
        line, column = span
        self.warnings.append(diag(code, f"{who}: {message}", line=line, column=column))

    def draw_lines(
        self,
        x: float,
        top: float,
        lines: tuple[str, ...] | list[str],
        size: float,
        *,
        color: str,
        weight: str = "normal",
        mono: bool = False,
        anchor: str = "start",
        opacity: float | None = None,
    ) -> float:
        """Draw lines from ``top`` (the top of the first line box); return the height used."""
        if not lines:
            return 0.0
        lh = size * LINE_HEIGHT
        base = top + (lh - (ASCENT + DESCENT) * size) / 2 + ASCENT * size
        fam = f"{MONO_FONT}, monospace" if mono else f"{FONT}, sans-serif"
        a = f'<text x="{num(x)}" y="{num(base)}" font-family="{fam}" font-size="{num(size)}" fill="{color}"'
        if weight == "bold":
            a += ' font-weight="bold"'
        if anchor != "start":
            a += f' text-anchor="{anchor}"'
        if opacity is not None:
            a += f' opacity="{num(opacity)}"'
        if len(lines) == 1:
            self.parts.append(f"{a}>{escape(lines[0])}</text>")
        else:
            spans = "".join(
                f'<tspan x="{num(x)}" y="{num(base + i * lh)}">{escape(line)}</tspan>'
                for i, line in enumerate(lines)
            )
            self.parts.append(f"{a}>{spans}</text>")
        return lh * len(lines)

    def text(
        self,
        r: Rect,
        text: str,
        size: float,
        *,
        color: str,
        parent: str,
        comp: Component | None = None,
        role: str = "text",
        max_lines: int | None = None,
        weight: str = "normal",
        mono: bool = False,
        anchor: str = "start",
        valign: str = "top",
        min_scale: float = 0.8,
    ) -> float:
        """Fit ``text`` into ``r`` (wrap, shrink, ellipsize), draw it and record its box.

        Returns the height used.
        """
        lh_max = max(1, int(r.h // (size * LINE_HEIGHT * min_scale))) if r.h > 0 else 1
        limit = lh_max if max_lines is None else max(1, min(max_lines, lh_max))
        fit = fit_text(text, r.w, size, limit, weight=weight, mono=mono, min_scale=min_scale)
        used = len(fit.lines) * fit.size * LINE_HEIGHT
        tiny = r.h / LINE_HEIGHT
        if used > r.h + 0.01 and tiny >= max(7.0, size * 0.55):
            # a short row: one line at the size the row allows beats dropping the text
            fit = fit_text(text, r.w, tiny, 1, weight=weight, mono=mono, min_scale=1.0)
            fit = type(fit)(fit.lines, fit.size, True, fit.ellipsized)
            used = fit.size * LINE_HEIGHT
        if used > r.h + 0.01:  # even one line at the floor size does not fit the height
            self.warn("S702", comp, role, "no room for this text at all; it was left out")
            return 0.0
        self._note_fit(fit.shrunk, fit.ellipsized, comp, role)
        top = (
            r.y
            if valign == "top"
            else (r.y + (r.h - used) / 2 if valign == "middle" else r.b - used)
        )
        self._place_text(
            r,
            top,
            fit.lines,
            fit.size,
            color=color,
            parent=parent,
            weight=weight,
            mono=mono,
            anchor=anchor,
        )
        return used

    def _note_fit(self, shrunk: bool, ellipsized: bool, comp: Component | None, role: str) -> None:
        if shrunk:
            self.warn("S701", comp, role, "text shrunk to fit its box")
        if ellipsized:
            self.warn("S702", comp, role, "text cut with an ellipsis to fit its box")

    def _place_text(
        self,
        r: Rect,
        top: float,
        lines: tuple[str, ...],
        size: float,
        *,
        color: str,
        parent: str,
        weight: str,
        mono: bool,
        anchor: str,
    ) -> None:
        widest = max(
            (measure_text(line, size, weight=weight, mono=mono) for line in lines), default=0.0
        )
        widest = min(widest, r.w)
        x = r.x if anchor == "start" else (r.cx if anchor == "middle" else r.r)
        bx = (
            r.x
            if anchor == "start"
            else (r.cx - widest / 2 if anchor == "middle" else r.r - widest)
        )
        tid = self.new_id("t")
        h = len(lines) * size * LINE_HEIGHT
        self.box(tid, "text", Rect(bx, top, widest, h), parent)
        self.draw_lines(x, top, lines, size, color=color, weight=weight, mono=mono, anchor=anchor)

    def plan_stack(
        self, sections: list[Section], width: float, height: float, comp: Component | None = None
    ) -> list[tuple[Section, Any]]:
        """Fit sections into ``width`` x ``height``: cut lines from the longest, then shrink,
        then drop trailing sections. Returns (section, Fit) pairs to draw."""
        secs = [s for s in sections if s.text]
        allowed = [s.max_lines for s in secs]
        scale = 1.0

        def fit(i: int) -> Any:
            s = secs[i]
            return fit_text(
                s.text,
                width,
                s.size * scale,
                allowed[i],
                weight=s.weight,
                mono=s.mono,
                min_scale=1.0,
            )

        fits = [fit(i) for i in range(len(secs))]
        while True:
            total = sum(len(f.lines) * f.size * LINE_HEIGHT for f in fits) + sum(
                s.gap for s in secs[:-1]
            )
            if total <= height + 0.01 or not secs:
                return [
                    (s, f if scale == 1.0 else type(f)(f.lines, f.size, True, f.ellipsized))
                    for s, f in zip(secs, fits, strict=True)
                ]
            longest = max(range(len(secs)), key=lambda i: (len(fits[i].lines), i))
            n = len(fits[longest].lines)
            if n > 1:
                # cut as many lines as the overflow needs, only from the longest section
                lh = fits[longest].size * LINE_HEIGHT
                cut = max(1, min(n - 1, int((total - height) / lh + 0.999)))
                allowed[longest] = n - cut
                fits[longest] = fit(longest)
                continue
            if scale > 0.8:
                scale = round(scale - 0.1, 2)
                fits = [fit(i) for i in range(len(secs))]
                continue
            if len(secs) == 1:
                # never leave a component box empty: its first text stays as one ellipsized
                # line at the size the box allows (down to a 6.5 px floor)
                s0 = secs[0]
                tiny = min(s0.size * scale, height / LINE_HEIGHT)
                if tiny >= 6.5:
                    f0 = fit_text(
                        s0.text, width, tiny, 1, weight=s0.weight, mono=s0.mono, min_scale=1.0
                    )
                    shrunk = f0.shrunk or tiny < s0.size
                    return [(s0, type(f0)(f0.lines, f0.size, shrunk, f0.ellipsized))]
            dropped = secs.pop()
            allowed.pop()
            fits.pop()
            self.warn("S702", comp, dropped.role, "no room for this text; it was left out")

    def stack_height(self, sections: list[Section], width: float) -> float:
        """Natural height of sections at ``width`` (no cutting)."""
        total = 0.0
        secs = [s for s in sections if s.text]
        for i, s in enumerate(secs):
            fit = fit_text(
                s.text, width, s.size, s.max_lines, weight=s.weight, mono=s.mono, min_scale=1.0
            )
            total += len(fit.lines) * s.size * LINE_HEIGHT + (s.gap if i < len(secs) - 1 else 0.0)
        return total

    def stack(
        self,
        r: Rect,
        sections: list[Section],
        *,
        parent: str,
        comp: Component | None = None,
        valign: str = "top",
    ) -> float:
        """Draw sections top to bottom inside ``r``; return the height used."""
        plan = self.plan_stack(sections, r.w, r.h, comp)
        used = sum(len(f.lines) * f.size * LINE_HEIGHT for _, f in plan) + sum(
            s.gap for s, _ in plan[:-1]
        )
        y = (
            r.y
            if valign == "top"
            else (r.y + (r.h - used) / 2 if valign == "middle" else r.b - used)
        )
        for i, (s, f) in enumerate(plan):
            self._note_fit(f.shrunk, f.ellipsized, comp, s.role)
            self._place_text(
                r,
                y,
                f.lines,
                f.size,
                color=s.color,
                parent=parent,
                weight=s.weight,
                mono=s.mono,
                anchor=s.anchor,
            )
            y += len(f.lines) * f.size * LINE_HEIGHT + (s.gap if i < len(plan) - 1 else 0.0)
        return used
