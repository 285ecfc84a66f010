"""Scene compiler: scene + content.json -> SVG (``compile_scene``).

::

    from dslkit.compilers.scene_svg import compile_scene
    svg = compile_scene(open("scene.dsl").read(), "content.json")
    svg.save("out.svg"); png = svg.to_png(width=480)

The compiler owns every render decision: geometry per layout family (``layouts/``), palettes
and attribute effects (``theme.py``, documented in ``README.md``), text metrics and fitting with
the pinned DejaVu fonts (``text.py``), and the document writer (``canvas.py``). Output is
deterministic, escaped, self-contained (no external references) and accessible.
"""

from dslkit.compilers.scene_svg.canvas import Box
from dslkit.compilers.scene_svg.compile import compile_scene
from dslkit.compilers.scene_svg.svg import Svg
from dslkit.compilers.scene_svg.text import measure_text, wrap_text

__all__ = ["Box", "Svg", "compile_scene", "measure_text", "wrap_text"]
