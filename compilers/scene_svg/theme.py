"""Palettes and the resolved style of one scene (every scene attribute lands here).

A :class:`Style` is computed once per compile from the scene attributes (contract defaults fill
what the scene leaves out) and read by every layout; layouts never look at raw attributes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace

from scene_dsl.ast import Scene
from scene_dsl.contract import Contract

__all__ = ["CANVAS", "THEMES", "Palette", "Style", "resolve_style"]

CANVAS = {"wide": (1200, 675), "tall": (900, 1350), "square": (1080, 1080)}
# The page proportions of the families the CKE v7 renderers draw on a page of their own (their
# page sizes are facts of those renderers: a decision tree is 1780 x 1220 there, a flow graph
# 1760 x 820). A CKE scene says [canvas:wide] (or nothing) and expects that shape, so the wide
# canvas of these families keeps its 1200 px width and takes the CKE page's aspect ratio. The
# width stays so the text keeps its size relative to the page (a 1780 px page would shrink it).
FAMILY_WIDE: dict[str, tuple[int, int]] = {
    "decision_tree": (1780, 1220),
    "memory_map": (1280, 980),
    "flow_graph": (1760, 820),
    "timeline": (1600, 980),
    "system_diagram": (1780, 900),
    "comparison_board": (1720, 1320),
    "table_matrix": (1400, 1560),
    "comparison_span_chart": (1200, 780),
}
TONES = ("amber", "green", "blue", "purple")


@dataclass(frozen=True, slots=True)
class Palette:
    """Colours of one theme. Accent tones map to (strong, soft) pairs."""

    bg: str  # canvas
    bg2: str  # second stop of the canvas gradient
    surface: str  # cards
    surface2: str  # raised parts inside cards (table header, terminal)
    line: str  # hairlines, card borders
    ink: str  # primary text
    muted: str  # secondary text
    faint: str  # background motifs
    amber: str
    green: str
    blue: str
    purple: str
    amber_soft: str
    green_soft: str
    blue_soft: str
    purple_soft: str
    danger: str
    glow: bool  # draw a soft halo under accent strokes
    terminal_bg: str
    terminal_ink: str

    def accent(self, tone: str) -> str:
        return str(getattr(self, tone))

    def soft(self, tone: str) -> str:
        return str(getattr(self, tone + "_soft"))


def _mix(color: str, base: str, share: float) -> str:
    """``color`` laid over ``base`` at opacity ``share`` (an accent wash on a surface)."""
    a = [int(color[i : i + 2], 16) for i in (1, 3, 5)]
    b = [int(base[i : i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(y + (x - y) * share):02x}" for x, y in zip(a, b, strict=True))


# The theme names come from the CKE v7 renderers, and so do their colours: canvas gradient,
# surfaces, border, ink, muted ink and the four tone accents below are the CKE palettes' values,
# so a scene written for CKE's infra_dark looks like CKE's infra_dark (navy, not near-black).
# The accent washes ("soft") are derived, not picked: the accent laid over the card surface.
_ACCENTS = {
    "amber": "#ffb400",
    "green": "#47b475",
    "blue": "#56aefc",
    "purple": "#b576ff",
}


def _palette(*, surface: str, wash: float, glow: bool, **colours: str) -> Palette:
    softs = {f"{tone}_soft": _mix(hex_, surface, wash) for tone, hex_ in _ACCENTS.items()}
    return Palette(surface=surface, glow=glow, **_ACCENTS, **softs, **colours)


THEMES: dict[str, Palette] = {
    "infra_dark": _palette(
        bg="#0b1018",
        bg2="#141d2b",
        surface="#121b29",
        surface2="#192638",
        line="#334155",
        ink="#f3f7fc",
        muted="#92a4b8",
        faint=_mix("#94a3b8", "#141d2b", 0.10),  # CKE's grid stroke: slate at 10% opacity
        danger="#f87171",
        wash=0.16,
        glow=False,
        terminal_bg="#070b12",
        terminal_ink="#c9d4df",
    ),
    "paper_editorial": _palette(
        bg="#f3ede3",
        bg2="#fbf7f0",
        surface="#fffaf2",
        surface2="#f8efe0",
        line="#d8c7ad",
        ink="#17212b",
        muted="#64748b",
        faint=_mix("#725f48", "#f3ede3", 0.10),  # CKE's grid stroke: umber at 10% opacity
        danger="#c0392b",
        wash=0.22,
        glow=False,
        terminal_bg="#17212b",
        terminal_ink="#f3ede3",
    ),
    "signal_glow": _palette(
        bg="#07131f",
        bg2="#11253a",
        surface="#0d2033",
        surface2="#16314d",
        line="#28577d",
        ink="#f8fafc",
        muted="#9dd5ff",
        faint=_mix("#56aeff", "#11253a", 0.11),  # CKE's grid stroke: sky at 11% opacity
        danger="#ff5d73",
        wash=0.18,
        glow=True,
        terminal_bg="#040b14",
        terminal_ink="#bfe3ff",
    ),
}

# Which tones "mixed" cycles through, per theme (the contract forbids some tones per theme).
MIXED_CYCLE = {
    "infra_dark": ("blue", "green", "amber", "purple"),
    "paper_editorial": ("blue", "amber", "green"),
    "signal_glow": ("blue", "green", "purple"),
}

_HEX = re.compile(r"#[0-9a-fA-F]{6}\Z")


@dataclass(frozen=True, slots=True)
class Style:
    """Every render decision derived from the scene attributes."""

    width: int
    height: int
    canvas: str
    layout: str
    theme: str
    tone: str
    palette: Palette
    frame: str
    density: str
    margin: float  # inset: distance from the canvas edge to the content
    gap: float  # space between sibling panels
    pad: float  # padding inside cards (density)
    font: float  # base body font size (density x canvas)
    hero: str
    columns: int
    emphasis: str
    rail: str
    background: str
    connector: str
    topic: str

    def tone_at(self, index: int, override: str | None = None) -> str:
        """Accent tone of the ``index``-th item: its own accent, else the scene tone
        (``mixed`` cycles the theme's tones)."""
        if override in TONES:
            return str(override)
        if self.tone == "mixed":
            cycle = MIXED_CYCLE[self.theme]
            return cycle[index % len(cycle)]
        return self.tone

    def accent(self, index: int = 0, override: str | None = None) -> str:
        return self.palette.accent(self.tone_at(index, override))

    def soft(self, index: int = 0, override: str | None = None) -> str:
        return self.palette.soft(self.tone_at(index, override))


def resolve_style(
    scene: Scene, contract: Contract, overrides: Mapping[str, str] | None = None
) -> Style:
    """Resolve the scene attributes (with contract defaults) into a :class:`Style`.

    Args:
        scene: a valid scene.
        contract: the contract giving the defaults.
        overrides: palette colour overrides, ``{"bg": "#000000", "blue": "#3366ff", ...}``;
            values must be ``#rrggbb`` (anything else is ignored, so no markup can enter).

    Returns:
        The :class:`Style`.
    """
    attrs = {a.name: a.default for a in contract.attributes if a.default is not None}
    attrs.update({a.key: a.value for a in scene.attrs})
    theme = attrs.get("theme", "infra_dark")
    palette = THEMES.get(theme, THEMES["infra_dark"])
    if overrides:
        names = {f.name for f in fields(Palette)} - {"glow"}
        good = {
            k: v
            for k, v in sorted(overrides.items())
            if k in names and isinstance(v, str) and _HEX.match(v)
        }
        palette = replace(palette, **good)  # type: ignore[arg-type]
    canvas = attrs.get("canvas", "wide")
    width, height = CANVAS.get(canvas, CANVAS["wide"])
    if canvas == "wide":
        page = FAMILY_WIDE.get(attrs.get("layout", ""))
        if page is not None:
            height = round(width * page[1] / page[0])
    density = attrs.get("density", "balanced")
    dens_font = {"compact": 0.92, "balanced": 1.0, "airy": 1.08}.get(density, 1.0)
    dens_pad = {"compact": 12.0, "balanced": 16.0, "airy": 22.0}.get(density, 16.0)
    return Style(
        width=width,
        height=height,
        canvas=canvas,
        layout=attrs.get("layout", ""),
        theme=theme,
        tone=attrs.get("tone", "blue"),
        palette=palette,
        frame=attrs.get("frame", "none"),
        density=density,
        margin={"sm": 24.0, "md": 40.0, "lg": 60.0}.get(attrs.get("inset", "md"), 40.0),
        gap={"sm": 10.0, "md": 18.0, "lg": 28.0}.get(attrs.get("gap", "md"), 18.0),
        pad=dens_pad,
        font=15.0 * dens_font,
        hero=attrs.get("hero", "left"),
        columns=max(1, min(4, int(attrs.get("columns", "2") or 2))),
        emphasis=attrs.get("emphasis", "top"),
        rail=attrs.get("rail", "none"),
        background=attrs.get("background", "none"),
        connector=attrs.get("connector", "arrow"),
        topic=attrs.get("topic", "") or "",
    )
