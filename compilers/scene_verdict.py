"""One verdict on a scene text: is it good, and is it the target?

:func:`verify_scene` is to scenes what :func:`dslkit.compilers.trace_solver.verify` is to traces.
Data QC (``dslkit.train.data``), the critic (``dslkit.train.critic``) and the probe
(``dslkit.train.probe``) all ask it, so they cannot disagree on what a word means:

``parses``
    the parser recovers a scene and reports no error (syntax, frame, nesting, leaks, row arity).
``valid``
    it parses, and the scene validates against the contract and, when given, its content.json
    (every content ref resolves).
``renderable``
    it is valid and the scene compiler turns it into an SVG. Without a compiler or without
    content nothing is compiled and renderable equals valid (``compiled`` says which).
``canonical``
    it parses and the text is, character for character, what the canonical printer writes for
    its scene (``scene_dsl.canonical_text``) in one of the two forms (block, row) on one of the
    two surfaces: the one-line training surface, or the file surface (one component per line;
    its final newline is optional). Anything else (order, spacing, ``@``, defaults) is not.
``exact``
    it is canonical and its scene is the expected scene, i.e. the text is one of the expected
    scene's canonical texts. Only asked when an expected scene or text is given.

With ``repair=True`` the verdict also carries the verdict on the deterministic repair
(``scene_dsl.repair``) of the text, printed canonically, so raw and repaired can be reported
side by side.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import scene_dsl
from dslkit.errors import Diagnostic, DslkitError, DslSyntaxError
from scene_dsl.ast import Scene
from scene_dsl.contract import Contract

if TYPE_CHECKING:
    from dslkit.compilers.scene_svg import Svg

__all__ = [
    "SceneCompiler",
    "SceneVerdict",
    "canonical_texts",
    "default_compiler",
    "form_of",
    "svg_text",
    "verify_scene",
]

# The scene compiler as the verdict calls it: ``compile(scene, content)``; it returns an
# :class:`~dslkit.compilers.scene_svg.Svg` (or the SVG text) and raises a toolkit error when the
# scene cannot be drawn. Tests pass stand-ins with this shape.
SceneCompiler = Callable[[Scene, Mapping[str, Any]], "Svg | str"]

FORMS = ("block", "row")


@dataclass(frozen=True)
class SceneVerdict:
    """What :func:`verify_scene` found. Each flag implies the ones before it:
    exact => canonical => parses, and renderable => valid => parses."""

    text: str  # the judged text
    parses: bool  # a scene was recovered and the parser reported no error
    valid: bool  # parses, and no contract or content error
    renderable: bool  # valid, and compiled without error (or nothing to compile with)
    canonical: bool  # parses, and the text is one of its scene's canonical texts
    exact: bool | None  # canonical and the expected scene (None: nothing was expected)
    compiled: bool  # the compiler ran on it (False: no compiler, no content, or not valid)
    scene: Scene | None  # the recovered scene, canonicalized (may be partial when not parses)
    diagnostics: tuple[Diagnostic, ...]  # parser + contract + content diagnostics, by position
    syntax_errors: tuple[Diagnostic, ...]  # the parser's errors alone (why it does not parse)
    svg: str | None = None  # the compiled SVG text, when it compiled
    render_class: str = ""  # failure class of the compile error ("" when none)
    render_error: str = ""  # first line of the compile error ("" when none)
    fixes: tuple[scene_dsl.Fix, ...] = ()  # repair steps (only with repair=True)
    repaired: SceneVerdict | None = None  # verdict on the repaired text (None: not asked / none)
    unrepairable: bool = False  # repair was asked and found nothing recognisable as a scene

    @property
    def ok(self) -> bool:
        """Renderable and canonical: a good training target."""
        return self.renderable and self.canonical

    @property
    def errors(self) -> tuple[Diagnostic, ...]:
        """The error diagnostics (warnings left out)."""
        return tuple(d for d in self.diagnostics if d.is_error)


def svg_text(svg: Svg | str) -> str:
    """The SVG document of a compiler result (an ``Svg`` or already its text)."""
    return svg if isinstance(svg, str) else svg.text


def default_compiler(contract: str | Path | Contract = "v1") -> SceneCompiler | None:
    """:func:`dslkit.compilers.scene_svg.compile_scene` for ``contract``, or None when the render
    stack is not installed."""
    try:
        from dslkit.compilers.scene_svg import compile_scene
    except ImportError:  # the render extra is not installed: validity is all we can say
        return None
    return functools.partial(compile_scene, contract=contract)


def canonical_texts(scene: Scene, contract: str | Path | Contract = "v1") -> tuple[str, ...]:
    """Every text that counts as canonical for ``scene``: both forms, both surfaces.

    Args:
        scene: any scene (it is canonicalized first).
        contract: contract name, path or object.

    Returns:
        Inline block, inline row, file block, file row (the file surfaces with their newline).
    """
    return tuple(
        scene_dsl.canonical_text(scene, form=form, inline=inline, contract=contract)
        for inline in (True, False)
        for form in FORMS
    )


def _is_canonical_text(text: str, scene: Scene, contract: str | Path | Contract) -> bool:
    # The candidate in the text's own form and surface first: a canonical text (every
    # training target) then costs one printing, not four; the answer is the same.
    likely = (form_of(text), "\n" not in text.strip())
    others = [
        (form, inline) for inline in (True, False) for form in FORMS if (form, inline) != likely
    ]
    for form, inline in [likely, *others]:
        candidate = scene_dsl.canonical_text(scene, form=form, inline=inline, contract=contract)
        # the file surface ends with a newline; a file read without it is the same file
        if text == candidate or (candidate.endswith("\n") and text == candidate[:-1]):
            return True
    return False


def form_of(text: str) -> str:
    """The form a (possibly broken) scene text is written in: ``"row"`` or ``"block"``.

    Row form puts a component's parts inside one token (``[name:a|b]``) and closes nothing but
    the scene; block form closes every component.
    """
    if re.search(r"\[[a-z_]+:[^\]]*\|", text):
        return "row"
    return "row" if "[/" not in text.replace("[/scene]", "") else "block"


def verify_scene(
    text: str,
    content: Mapping[str, Any] | None = None,
    expected: str | Scene | None = None,
    *,
    contract: str | Path | Contract = "v1",
    compile: SceneCompiler | Literal["auto"] | None = "auto",
    repair: bool = False,
) -> SceneVerdict:
    """Judge one scene text: parses, valid, renderable, canonical, exact.

    Args:
        text: the scene text (a training target, a candidate row, a model output).
        content: its content.json as a mapping; refs are then resolved and the scene compiled.
        expected: the target, as a scene or as scene text; ``exact`` is None without it.
        contract: contract name, path or object.
        compile: ``compile(scene, content) -> Svg | str``; ``"auto"`` uses
            :func:`dslkit.compilers.scene_svg.compile_scene` when the render stack is
            installed; None never compiles (renderable then means valid).
        repair: also judge the deterministic repair of ``text`` (``.repaired``, ``.fixes``).

    Returns:
        The :class:`SceneVerdict`.

    Raises:
        SceneSyntaxError: ``expected`` is text that does not parse (the caller's target is
            broken, which is not a verdict on ``text``).
    """
    compiler = default_compiler(contract) if compile == "auto" else compile
    target: Scene | None = None
    if expected is not None:
        scene = (
            scene_dsl.parse(expected, contract=contract) if isinstance(expected, str) else expected
        )
        target = scene_dsl.canonicalize(scene, contract)
    return _verdict(text, content, target, contract, compiler, repair)


def _verdict(
    text: str,
    content: Mapping[str, Any] | None,
    target: Scene | None,
    contract: str | Path | Contract,
    compiler: SceneCompiler | None,
    repair: bool,
) -> SceneVerdict:
    try:
        result = scene_dsl.parse(text, errors="collect", contract=contract)
        parsed, parser_diags = result.scene, list(result.diagnostics)
    except DslSyntaxError as exc:  # over the size or depth limit: nothing to recover
        parsed, parser_diags = None, list(exc.diagnostics)
    parses = parsed is not None and not any(d.is_error for d in parser_diags)
    contract_diags = (
        scene_dsl.validate(parsed, contract, content, source=text) if parsed is not None else []
    )
    diagnostics = tuple(
        sorted([*parser_diags, *contract_diags], key=lambda d: (d.line, d.column, d.code))
    )
    scene = scene_dsl.canonicalize(parsed, contract) if parsed is not None else None
    valid = parses and not any(d.is_error for d in contract_diags)
    canonical = parses and scene is not None and _is_canonical_text(text, scene, contract)
    exact = None if target is None else (canonical and scene == target)
    svg: str | None = None
    render_class = render_error = ""
    compiled = valid and compiler is not None and content is not None
    if compiled:
        assert compiler is not None and content is not None and scene is not None
        try:
            svg = svg_text(compiler(scene, content))
        except DslkitError as e:
            first = e.diagnostic
            render_class = first.failure_class if first is not None else "render_failure"
            render_error = str(e).splitlines()[0] if str(e) else type(e).__name__
    renderable = valid and not render_class
    fixes: tuple[scene_dsl.Fix, ...] = ()
    repaired: SceneVerdict | None = None
    unrepairable = False
    if repair:
        try:
            fixed, fix_list = scene_dsl.repair(text, contract)
        except DslkitError:
            unrepairable = True
        else:
            fixes = tuple(fix_list)
            surface = scene_dsl.canonical_text(
                fixed, form=form_of(text), inline="\n" not in text.strip(), contract=contract
            )
            repaired = _verdict(surface, content, target, contract, compiler, repair=False)
    return SceneVerdict(
        text=text,
        parses=parses,
        valid=valid,
        renderable=renderable,
        canonical=canonical,
        exact=exact,
        compiled=compiled,
        scene=scene,
        diagnostics=diagnostics,
        syntax_errors=tuple(d for d in parser_diags if d.is_error),
        svg=svg,
        render_class=render_class,
        render_error=render_error,
        fixes=fixes,
        repaired=repaired,
        unrepairable=unrepairable,
    )
