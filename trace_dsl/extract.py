"""Take the first trace out of generated model text."""

from __future__ import annotations

import re

__all__ = ["STOP_MARKERS", "extract"]

# special tokens after which nothing belongs to the trace
STOP_MARKERS: tuple[str, ...] = (
    "</s>",
    "<|eos|>",
    "<|endoftext|>",
    "<|im_end|>",
    "<|end|>",
    "<eos>",
    "[OUT]",
)

_FENCE_OPEN = re.compile(r"```[ ]*(?:ya?ml|trace)?[ ]*\r?\n")
_START = re.compile(r"^(?:- )?expert:", re.MULTILINE)


def extract(model_text: str) -> str:
    """Return the text of the first trace in model output, ready for :func:`trace_dsl.parse`.

    Cuts at the first special token, strips a leading fenced block marker (`````yaml``) and
    stops at its closing fence, and drops any prose before the first ``expert:`` line.

    Args:
        model_text: raw generated text.

    Returns:
        The trace text (ends with a newline), or ``""`` when there is no trace.
    """
    text = model_text
    for marker in STOP_MARKERS:
        cut = text.find(marker)
        if cut >= 0:
            text = text[:cut]
    fence = _FENCE_OPEN.search(text)
    if fence is not None:
        text = text[fence.end() :]
        close = text.find("```")
        if close >= 0:
            text = text[:close]
    start = _START.search(text)
    if start is None:
        return ""
    text = text[start.start() :]
    lines: list[str] = []
    for line in text.split("\n"):
        stripped = line.strip()
        if lines and stripped and not _looks_like_trace(line):
            break  # prose after the trace
        lines.append(line.rstrip())
    body = "\n".join(lines).strip("\n")
    return body + "\n" if body else ""


def _looks_like_trace(line: str) -> bool:
    s = line.lstrip(" ")
    return s.startswith(("- {", "expert:", "- expert:", "trace:", "#"))
