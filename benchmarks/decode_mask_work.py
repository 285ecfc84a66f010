"""The work of dslkit's token masker on decode_mask.py's replay, counted in instructions.

decode_mask.py's totals move by 5% and more between runs on a shared machine, more than most
single changes to the masker are worth. This script replays the same canonical texts with the
same tokenizers through the masker alone (the processor's vocabulary read and masker build, then
each step's mask and advance through the masker's own calls; no torch) and, with
``--count``, runs each replay under valgrind's callgrind with the hash seed fixed and address
randomisation off, printing the instructions spent from the start of the build to the end of
the replay. That number repeats to within 0.05% (wall time: 5%), so two checkouts compare
exactly: run it in each. Instructions are not time (cache misses, the cyclic collector's memory
traffic), so confirm a change with decode_mask.py before keeping it.

The tokenizers are the ones decode_mask.py saves with ``--tokenizer-cache DIR``: run it once
with that folder (training them takes minutes), then point this script at the same folder.
Without the folder it builds dslkit's atomic tokenizers (seconds) and replays those alone.

    python benchmarks/decode_mask.py --tokenizer-cache DIR --skip-gen
    python benchmarks/decode_mask_work.py --tokenizer-cache DIR --count \\
        [--languages scene,trace] [--vocabularies 'dslkit atomic,byte-level BPE 32k']

Without ``--count`` it replays in this process and prints the wall time (a quick check that the
folder and vocabularies are right).
"""

from __future__ import annotations

import argparse
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
if str(ROOT / "benchmarks") not in sys.path:
    sys.path.insert(0, str(ROOT / "benchmarks"))

from decode_mask import atomic_tokenizer, canonical_texts  # noqa: E402  (the same as there)

# callgrind starts a new dump at each call of this C function: the script calls it right
# before the build and right after the replay, so the second dump is exactly that work
_MARK = "math_factorial"


def _replay(folder: Path, language: str, texts: list[str]) -> int:
    """Build the masker from the tokenizer in ``folder`` and replay ``texts``; the states met."""
    import json

    from dslkit.tokenizer.vocab import read_vocabulary
    from dslkit.train.token_mask import TokenMasker
    from tokenizers import Tokenizer

    import scene_dsl.automaton  # (imported before the build, as decode_mask.py does)
    import trace_dsl.automaton

    tok = Tokenizer.from_file(str(folder / "tokenizer.json"))
    config = json.loads((folder / "tokenizer_config.json").read_text(encoding="utf-8"))
    eos = tok.token_to_id(config["eos_token"]) if config.get("eos_token") else None
    ids = [tok.encode(t, add_special_tokens=False).ids for t in texts]
    math.factorial(1)  # (the mark: the counted part starts here)
    vocabulary = read_vocabulary(tok)
    if language == "scene":
        auto = scene_dsl.prefix_automaton("v1", "block")
    else:
        auto = trace_dsl.prefix_automaton()
    eos_id = vocabulary.eos_id if vocabulary.eos_id is not None else eos
    if eos_id is None:
        raise SystemExit(f"{folder}: the tokenizer names no end-of-sequence token")
    masker = TokenMasker(auto, vocabulary.token_texts, vocabulary.special_ids, eos_id)
    for seq in ids:
        sid = masker.start
        for t in seq:
            _ = masker.info(sid).mask
            sid = masker.advance(sid, t)
    math.factorial(2)  # (the mark: the counted part ends here)
    return len(masker._info)


def _count(folder: Path, language: str, n_texts: int) -> int:
    """Instructions of one replay, run under callgrind in a child process."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "cg"
        cmd = [
            "setarch",
            "-R",  # no address randomisation: dicts keyed by ids probe the same slots each run
            "valgrind",
            "--tool=callgrind",
            f"--dump-before={_MARK}",
            f"--callgrind-out-file={out}",
            sys.executable,
            __file__,
            "--one",
            language,
            str(folder),
            "--texts",
            str(n_texts),
        ]
        env = {**os.environ, "PYTHONHASHSEED": "0"}
        run = subprocess.run(cmd, capture_output=True, text=True, env=env)
        dumps = sorted(Path(tmp).glob("cg.*"), key=lambda p: int(p.suffix[1:]))
        if run.returncode != 0 or len(dumps) < 2:
            tail = (run.stderr or run.stdout).strip().splitlines()[-5:]
            raise SystemExit(f"callgrind run failed ({run.returncode}): " + " | ".join(tail))
        found = re.search(r"^summary:\s*(\d+)", dumps[1].read_text(), re.M)
        if found is None:
            raise SystemExit(f"no instruction summary in {dumps[1].name}")
        return int(found.group(1))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        "--tokenizer-cache",
        type=Path,
        help="the folder decode_mask.py --tokenizer-cache saved the tokenizers in (default: "
        "build dslkit's atomic tokenizers and replay those alone)",
    )
    p.add_argument("--corpus", type=int, default=3000, help="as given to decode_mask.py")
    p.add_argument("--generic-mb", type=float, default=12.0, help="as given to decode_mask.py")
    p.add_argument("--texts", type=int, default=20, help="canonical texts per language")
    p.add_argument("--languages", default="scene,trace")
    p.add_argument(
        "--vocabularies",
        default="dslkit atomic,byte-level BPE 32k",
        help="comma-separated labels as decode_mask.py prints them",
    )
    p.add_argument("--count", action="store_true", help="count instructions under callgrind")
    p.add_argument("--one", nargs=2, metavar=("LANGUAGE", "FOLDER"), help=argparse.SUPPRESS)
    args = p.parse_args()

    if args.one:  # (the child process --count runs under callgrind)
        language, folder = args.one
        _replay(Path(folder), language, canonical_texts(args.texts)[language])
        return 0
    built: Path | None = None
    if args.tokenizer_cache is None:
        # dslkit's atomic tokenizers, built here and saved as decode_mask.py lays them out
        base = built = Path(tempfile.mkdtemp())
        args.vocabularies = "dslkit atomic"
        for language in args.languages.split(","):
            folder = built / language / "dslkit atomic"
            folder.mkdir(parents=True)
            atomic_tokenizer(language).save(str(folder / "tokenizer.json"))
            (folder / "tokenizer_config.json").write_text('{"eos_token": "<|eos|>"}')
        print("no --tokenizer-cache: dslkit's atomic tokenizers only")
    else:
        base = args.tokenizer_cache / f"corpus{args.corpus}-generic{args.generic_mb:g}"
    if args.count:
        missing = [tool for tool in ("valgrind", "setarch") if shutil.which(tool) is None]
        if missing:
            p.error(f"--count needs {' and '.join(missing)} on PATH")
    try:
        _run(args, p, base)
    finally:
        if built is not None:
            shutil.rmtree(built, ignore_errors=True)
    return 0


def _run(args: argparse.Namespace, p: argparse.ArgumentParser, base: Path) -> None:
    texts = canonical_texts(args.texts)
    for language in args.languages.split(","):
        if language not in texts:
            p.error(f"--languages: unknown language {language!r} (scene, trace)")
        for label in args.vocabularies.split(","):
            folder = base / language / label
            if not (folder / "tokenizer.json").is_file():
                p.error(
                    f"no tokenizer at {folder}: run benchmarks/decode_mask.py with "
                    f"--tokenizer-cache {args.tokenizer_cache} (same --corpus, --generic-mb) first"
                )
            if args.count:
                n = _count(folder, language, args.texts)
                print(f"{language}, {label}: {n:,} instructions (build + replay)")
            else:
                t0 = time.perf_counter()
                states = _replay(folder, language, texts[language])
                dt = time.perf_counter() - t0
                # (wall time; the process's first replay pays its one-time set-up too)
                print(f"{language}, {label}: {states:,} states, {dt * 1e3:.1f} ms")


if __name__ == "__main__":
    raise SystemExit(main())
