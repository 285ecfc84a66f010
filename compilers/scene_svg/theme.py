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


THEMES: dict[str, Palette] = {
    "infra_dark": Palette(
        bg="#0b0f14",
        bg2="#0f151d",
        surface="#151c25",
        surface2="#1c2531",
        line="#2a3543",
        ink="#e6edf3",
        muted="#8d9aab",
        faint="#18212c",
        amber="#f5a524",
        green="#3fb950",
        blue="#4c9aff",
        purple="#a371f7",
        amber_soft="#3a2c12",
        green_soft="#14301c",
        blue_soft="#142a47",
        purple_soft="#2a1f45",
        danger="#f85149",
        glow=False,
        terminal_bg="#070a0e",
        terminal_ink="#c9d4df",
    ),
    "paper_editorial": Palette(
        bg="#f6f1e7",
        bg2="#efe7d8",
        surface="#fffbf3",
        surface2="#f1e9da",
        line="#d9ccb4",
        ink="#2b2620",
        muted="#6e6456",
        faint="#e8dfcd",
        amber="#b7791f",
        green="#2f7d4f",
        blue="#2b6cb0",
        purple="#6b46c1",
        amber_soft="#f6e3c0",
        green_soft="#d8ecd9",
        blue_soft="#d8e6f5",
        purple_soft="#e6ddf6",
        danger="#c0392b",
        glow=False,
        terminal_bg="#2b2620",
        terminal_ink="#f6f1e7",
    ),
    "signal_glow": Palette(
        bg="#06122a",
        bg2="#0a1d3d",
        surface="#0c1f3c",
        surface2="#12294d",
        line="#1f3f6b",
        ink="#eaf4ff",
        muted="#8fb3d9",
        faint="#0d2346",
        amber="#fbbf24",
        green="#2ef2a0",
        blue="#38bdf8",
        purple="#c084fc",
        amber_soft="#3b3314",
        green_soft="#0b3b3a",
        blue_soft="#0c3456",
        purple_soft="#2c2356",
        danger="#ff5d73",
        glow=True,
        terminal_bg="#040b1a",
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
