"""Same input, same bytes: across calls, processes and hash seeds."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

from dslkit.compilers.scene_svg import compile_scene
from svg_scene_factory import FAMILIES, build

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
SCRIPT = """
import hashlib, sys
sys.path.insert(0, {here!r})
from svg_scene_factory import FAMILIES, build
from dslkit.compilers.scene_svg import compile_scene
h = hashlib.sha256()
for f in FAMILIES:
    text, content = build(f, long=True)
    h.update(compile_scene(text, content).text.encode())
print(h.hexdigest())
"""


def _local_digest() -> str:
    h = hashlib.sha256()
    for f in FAMILIES:
        text, content = build(f, long=True)
        h.update(compile_scene(text, content).text.encode())
    return h.hexdigest()


def test_same_bytes_across_processes_and_hash_seeds() -> None:
    digests = set()
    for seed in ("0", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(ROOT)}
        out = subprocess.run(
            [sys.executable, "-c", SCRIPT.format(here=str(HERE))],
            capture_output=True,
            text=True,
            env=env,
            cwd=ROOT,
            check=True,
            timeout=300,
        )
        digests.add(out.stdout.strip())
    digests.add(_local_digest())
    assert len(digests) == 1


def test_same_bytes_within_a_process_and_no_state_leaks() -> None:
    text, content = build("flow_graph")
    first = compile_scene(text, content).text
    other, other_content = build("table_matrix")
    compile_scene(other, other_content)
    assert compile_scene(text, content).text == first


def test_ids_differ_between_scenes() -> None:
    a_text, a_content = build("flow_graph")
    b_text, b_content = build("flow_graph", attrs={"theme": "signal_glow"})
    a = compile_scene(a_text, a_content).text
    b = compile_scene(b_text, b_content).text
    assert a.split('id="', 1)[1][:7] != b.split('id="', 1)[1][:7]
