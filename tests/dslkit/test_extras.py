"""A missing optional dependency names the dslkit extra that installs it."""

from __future__ import annotations

import pickle
import subprocess
import sys
import textwrap

import pytest

from dslkit import MissingExtraError
from dslkit._extras import EXTRAS, require

# Each child process hides some packages (sys.modules[name] = None makes their import fail as
# if they were not installed), then calls the public entry points that need them.
HIDDEN_RENDER_TOKENIZER_TORCH = """
import sys
for name in ("cairosvg", "tokenizers", "torch"):
    sys.modules[name] = None
from dslkit import MissingExtraError

def expect(extra, call):
    try:
        call()
    except MissingExtraError as exc:
        assert f"pip install 'dslkit[{extra}]'" in str(exc), exc
        assert isinstance(exc, ImportError)
        print("ok", extra, exc.module)
    else:
        raise AssertionError(f"no MissingExtraError for {extra}")

from dslkit.compilers import to_png
expect("render", lambda: to_png('<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"/>'))
expect("tokenizer", lambda: __import__("dslkit.tokenizer"))
expect("train", lambda: __import__("dslkit.train.model"))
"""

HIDDEN_SAFETENSORS_TRANSFORMERS = """
import sys
for name in ("safetensors", "transformers"):
    sys.modules[name] = None
from dslkit import MissingExtraError
from dslkit.train.checkpoint import save_model
from dslkit.train.hf_export import gpt2_config
from dslkit.train.model import GPT, GPTConfig

config = GPTConfig(vocab_size=8, block_size=4, n_layer=1, n_head=1, n_embd=4)
for extra, call in (
    ("train", lambda: save_model(GPT(config), "/nonexistent/m.safetensors")),
    ("hf", lambda: gpt2_config(config)),
):
    try:
        call()
    except MissingExtraError as exc:
        assert f"pip install 'dslkit[{extra}]'" in str(exc), exc
        print("ok", extra, exc.module)
    else:
        raise AssertionError(extra)
"""


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        (
            HIDDEN_RENDER_TOKENIZER_TORCH,
            ["ok render cairosvg", "ok tokenizer tokenizers", "ok train torch"],
        ),
        (HIDDEN_SAFETENSORS_TRANSFORMERS, ["ok train safetensors", "ok hf transformers"]),
    ],
    ids=["render-tokenizer-train", "safetensors-transformers"],
)
def test_missing_packages_name_their_extra(script, expected) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split("\n")[:-1] == expected


def test_require_returns_the_module_and_checks_the_extra_name() -> None:
    import json

    assert require("json", extra="render") is json
    assert require("json", extra="train", load=False) is None
    with pytest.raises(ValueError, match="unknown dslkit extra"):
        require("json", extra="rendr")
    with pytest.raises(MissingExtraError, match=r"dslkit\[hf\]") as info:
        require("surely_not_installed_pkg.sub", extra="hf", feature="a test")
    assert info.value.module == "surely_not_installed_pkg" and info.value.extra == "hf"
    again = pickle.loads(pickle.dumps(info.value))  # crosses process boundaries intact
    assert (again.module, again.extra, str(again)) == (
        "surely_not_installed_pkg",
        "hf",
        str(info.value),
    )


def test_every_extra_in_the_table_exists_in_pyproject() -> None:
    tomllib = pytest.importorskip("tomllib")  # stdlib from Python 3.11
    from pathlib import Path

    pyproject = Path(__file__).resolve().parents[2] / "pyproject.toml"
    extras = tomllib.loads(pyproject.read_text())["project"]["optional-dependencies"]
    assert set(EXTRAS) <= set(extras)
    assert {"render", "tokenizer", "train", "hf"} <= {
        e for dep in extras["all"] for e in dep.partition("[")[2].rstrip("]").split(",")
    }
