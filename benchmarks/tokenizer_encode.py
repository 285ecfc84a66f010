"""Tokenizer benchmark: encode throughput per granularity beside plain BPE, tokens per gold
scene, and build time.

Usage: python benchmarks/tokenizer_encode.py [--rows 10000] [--seconds 2] [--threads 1]

Everything is measured in this run on this machine; nothing is asserted. Baselines:

- ``bpe``: this package with nothing reserved (same structural pre-tokenizer);
- ``hf-bytelevel``: stock HF byte-level BPE (GPT-2 regex pre-tokenizer), trained on the same rows.

Throughput is ``encode_batch`` over the corpus with ``--threads`` Rust threads (default 1:
single thread), in MB/s of UTF-8 input and tokens/s; the ratio column is the baseline's
throughput over this one (> 1 means slower than plain BPE).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path


def _args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--rows", type=int, default=10_000, help="generated scene rows to build from")
    ap.add_argument("--seconds", type=float, default=2.0, help="time per throughput measurement")
    ap.add_argument("--threads", type=int, default=1, help="Rust threads for encode_batch")
    ap.add_argument("--vocab-size", type=int, default=2048)
    return ap.parse_args()


ARGS = _args()
# Must be set before tokenizers starts its thread pool (first import).
os.environ["RAYON_NUM_THREADS"] = str(ARGS.threads)
os.environ["TOKENIZERS_PARALLELISM"] = "true" if ARGS.threads > 1 else "false"
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dslkit.tokenizer.corpus import EXAMPLES_DIR, gold_scenes, sample_scene_texts  # noqa: E402
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers  # noqa: E402

from dslkit import tokenizer  # noqa: E402


def _stock_bpe(corpus: list[str], vocab_size: int) -> Tokenizer:
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(corpus, trainer, length=len(corpus))
    return tok


def _throughput(encode_batch, texts: list[str], seconds: float) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    nbytes = sum(len(t.encode("utf-8")) for t in texts)
    encode_batch(texts[:50])  # warm up
    runs, ntok, t0 = 0, 0, time.perf_counter()
    while True:
        ntok += sum(len(ids) for ids in encode_batch(texts))
        runs += 1
        elapsed = time.perf_counter() - t0
        if elapsed >= seconds:
            break
    return runs * nbytes / elapsed / 1e6, ntok / elapsed


def main() -> None:
    t0 = time.perf_counter()
    corpus = sample_scene_texts(ARGS.rows, seed=0)
    mb = sum(len(t.encode("utf-8")) for t in corpus) / 1e6
    print(
        f"corpus: {len(corpus)} generated scene rows ({mb:.2f} MB), sampled in {time.perf_counter() - t0:.1f}s"
    )
    print(f"threads: {ARGS.threads}   vocab size: {ARGS.vocab_size}\n")

    built: dict[str, object] = {}
    build_s: dict[str, float] = {}
    for g in tokenizer.GRANULARITIES:
        t0 = time.perf_counter()
        built[g] = tokenizer.build(
            "scene", corpus=corpus, granularity=g, vocab_size=ARGS.vocab_size
        )
        build_s[g] = time.perf_counter() - t0
    t0 = time.perf_counter()
    stock = _stock_bpe(corpus, ARGS.vocab_size)
    build_s["hf-bytelevel"] = time.perf_counter() - t0

    encoders = {g: built[g].encode_batch for g in tokenizer.GRANULARITIES}  # type: ignore[attr-defined]
    encoders["hf-bytelevel"] = lambda texts: [
        e.ids for e in stock.encode_batch_fast(texts, add_special_tokens=False)
    ]
    speed = {name: _throughput(fn, corpus, ARGS.seconds) for name, fn in encoders.items()}

    print(
        f"{'':14}{'build s':>9}{'vocab':>7}{'MB/s':>8}{'Mtok/s':>8}{'x slower':>10}{'tok/row':>9}"
    )
    base = speed["bpe"][0]
    for name, (mbs, toks) in speed.items():
        vocab = built[name].vocab_size if name in built else stock.get_vocab_size()  # type: ignore[attr-defined]
        per_row = sum(len(ids) for ids in encoders[name](corpus[:1000])) / 1000
        print(
            f"{name:14}{build_s[name]:>9.2f}{vocab:>7}{mbs:>8.2f}{toks / 1e6:>8.2f}"
            f"{base / mbs:>10.2f}{per_row:>9.1f}"
        )
    print("  (x slower: plain-BPE ('bpe') throughput / this throughput)")

    golds = gold_scenes()
    if not golds:
        print("\nno gold pack under examples/gold: skipping tokens per gold scene")
        return
    files = sorted((EXAMPLES_DIR / "gold").glob("*/scene.dsl"))
    print(f"\ntokens per gold scene ({len(files)} cases; block form file / row form file)")
    print(f"{'':14}{'block mean':>11}{'min':>6}{'max':>6}{'row mean':>10}{'min':>6}{'max':>6}")
    for name, fn in encoders.items():
        cells = []
        for pattern in ("*/scene.dsl", "*/scene.row.dsl"):
            texts = [p.read_text("utf-8") for p in sorted((EXAMPLES_DIR / "gold").glob(pattern))]
            counts = [len(ids) for ids in fn(texts)] or [0]
            cells.append(
                f"{statistics.mean(counts):>{11 if not cells else 10}.1f}{min(counts):>6}{max(counts):>6}"
            )
        print(f"{name:14}{''.join(cells)}")


if __name__ == "__main__":
    main()
