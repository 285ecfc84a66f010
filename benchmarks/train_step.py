"""Training-step throughput of ``dslkit.train.model.GPT`` beside a plain PyTorch baseline.

Both models get the same width, depth, heads, vocabulary and batch, and the same step
(forward, masked cross-entropy, backward, AdamW). The baseline is ``nn.TransformerEncoder``
with a causal mask, pre-norm, GELU and no biases: the stock PyTorch way to write the same
network. Timings are measured in this run, on this machine, and printed as a ratio; nothing
is asserted.

    python benchmarks/train_step.py                 # CPU-sized defaults, ~20 s
    python benchmarks/train_step.py --device cuda --batch 64 --seq 256 --n-embd 384 --n-layer 6
    python benchmarks/train_step.py --rows runs/demo/train.npz   # padded vs packed on real rows

A second table takes batches of variable-length rows (the demo's packed rows with ``--rows``,
or synthetic rows with a long tail like scene rows) and times the same GPT step padded to each
batch's longest row (``make_batch``) and packed side by side (``make_packed_batch``): throughput
in real (unpadded) tokens per second, batch building included.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch
import torch.nn as nn
from torch.nn import functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dslkit.train.model import GPT, GPTConfig, resolve_device


class Baseline(nn.Module):
    """Token + position embedding, nn.TransformerEncoder (causal), LayerNorm, tied head."""

    def __init__(self, cfg: GPTConfig) -> None:
        super().__init__()
        self.wte = nn.Embedding(cfg.vocab_size, cfg.n_embd)
        self.wpe = nn.Embedding(cfg.block_size, cfg.n_embd)
        layer = nn.TransformerEncoderLayer(
            cfg.n_embd, cfg.n_head, dim_feedforward=4 * cfg.n_embd, dropout=0.0,
            activation="gelu", batch_first=True, norm_first=True, bias=False,
        )  # fmt: skip
        self.blocks = nn.TransformerEncoder(layer, cfg.n_layer, enable_nested_tensor=False)
        self.ln_f = nn.LayerNorm(cfg.n_embd, bias=False)
        self.head = nn.Linear(cfg.n_embd, cfg.vocab_size, bias=False)
        self.head.weight = self.wte.weight

    def forward(self, idx: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        T = idx.shape[1]
        x = self.wte(idx) + self.wpe(torch.arange(T, device=idx.device))
        mask = nn.Transformer.generate_square_subsequent_mask(T, device=idx.device)
        x = self.blocks(x, mask=mask, is_causal=True)
        logits = self.head(self.ln_f(x))
        return F.cross_entropy(
            logits.view(-1, logits.size(-1)), targets.view(-1), ignore_index=-100
        )


def time_steps(
    step: Callable[[], None], steps: int, warmup: int, device: torch.device
) -> list[float]:
    """Seconds per call of ``step``, after ``warmup`` untimed calls."""
    for _ in range(warmup):
        step()
    times = []
    for _ in range(steps):
        if device.type == "cuda":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        step()
        if device.type == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
    return times


def train_step(model: nn.Module, loss_fn: Callable[[], torch.Tensor]) -> Callable[[], None]:
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)

    def step() -> None:
        loss = loss_fn()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()

    return step


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cpu", help="auto | cpu | cuda")
    ap.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--seq", type=int, default=128)
    ap.add_argument("--vocab", type=int, default=512)
    ap.add_argument("--n-layer", type=int, default=4)
    ap.add_argument("--n-head", type=int, default=4)
    ap.add_argument("--n-embd", type=int, default=128)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--rows", default="", help="packed rows (.npz) for the padded/packed table")
    ap.add_argument("--pack-width", type=int, default=128, help="positions per packed sequence")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    cfg = GPTConfig(
        vocab_size=args.vocab, block_size=args.seq, n_layer=args.n_layer, n_head=args.n_head,
        n_embd=args.n_embd,
    )  # fmt: skip
    torch.manual_seed(0)
    idx = torch.randint(0, args.vocab, (args.batch, args.seq), device=device)
    targets = torch.randint(0, args.vocab, (args.batch, args.seq), device=device)
    targets[:, : args.seq // 4] = -100  # a prompt quarter carries no loss, as in real rows
    tokens = args.batch * args.seq

    gpt = GPT(cfg).to(device).train()
    base = Baseline(cfg).to(device).train()

    def gpt_loss() -> torch.Tensor:
        loss = gpt(idx, targets)[1]
        assert loss is not None
        return loss

    @torch.no_grad()
    def gpt_forward() -> None:
        gpt(idx)

    rows = [
        ("GPT train step", gpt.num_params(), train_step(gpt, gpt_loss)),
        ("baseline train step", sum(p.numel() for p in base.parameters()),
         train_step(base, lambda: base(idx, targets))),
        ("GPT forward only", gpt.num_params(), gpt_forward),
    ]  # fmt: skip
    print(
        f"device={device} threads={torch.get_num_threads()} batch={args.batch} seq={args.seq} "
        f"layers={args.n_layer} heads={args.n_head} embd={args.n_embd} vocab={args.vocab}"
    )
    medians = {}
    for name, params, step in rows:
        ms = statistics.median(time_steps(step, args.steps, args.warmup, device)) * 1e3
        medians[name] = ms
        print(
            f"{name:<22} params={params:>10,}  {ms:8.2f} ms/step  {tokens / ms * 1e3:>10,.0f} tok/s"
        )
    ratio = medians["baseline train step"] / medians["GPT train step"]
    print(f"GPT / baseline throughput ratio: {ratio:.2f}x (>1 means GPT is faster)")
    padded_vs_packed(args, device)


def padded_vs_packed(args: argparse.Namespace, device: torch.device) -> None:
    """Real tokens/s of one training step on variable-length rows, padded and packed."""
    import numpy as np
    from dslkit.train.packing import PackedRows, make_batch, make_packed_batch, synthetic_rows

    if args.rows:
        data = PackedRows.load(args.rows)
    else:  # prompts ~35, targets with a long tail (most ~60, a few ~300), as scene rows
        data = synthetic_rows(4000, args.vocab, prompt_len=(25, 45), target_len=(30, 90), seed=1)
    lengths = data.row_lengths() - 1
    block = max(int(lengths.max()), args.pack_width)
    cfg = GPTConfig(
        vocab_size=max(args.vocab, data.vocab_size), block_size=block, n_layer=args.n_layer,
        n_head=args.n_head, n_embd=args.n_embd,
    )  # fmt: skip
    gpt = GPT(cfg).to(device).train()
    rng = np.random.default_rng(0)
    draws = [rng.choice(len(data), args.batch, replace=False) for _ in range(args.steps + 8)]
    real = statistics.mean(int(lengths[d].sum()) for d in draws)

    def stepper(packed: bool) -> Callable[[], None]:
        order = iter(draws * 2)

        def loss() -> torch.Tensor:
            rows = next(order)
            if packed:
                b = make_packed_batch(data, rows, args.pack_width)
                out = gpt(
                    b.x.to(device), b.y.to(device),
                    positions=b.positions.to(device), segments=b.segments.to(device),
                )[1]  # fmt: skip
            else:
                x, y = make_batch(data, rows)
                out = gpt(x.to(device), y.to(device))[1]
            assert out is not None
            return out

        return train_step(gpt, loss)

    print(
        f"\nvariable-length rows ({'from ' + args.rows if args.rows else 'synthetic'}): "
        f"{len(data)} rows, length p50 {int(np.median(lengths))}, max {int(lengths.max())}; "
        f"batch {args.batch}, pack width {args.pack_width}"
    )
    medians = {}
    for name, packed in (("padded to longest", False), ("packed", True)):
        ms = statistics.median(time_steps(stepper(packed), args.steps, args.warmup, device)) * 1e3
        medians[name] = ms
        print(f"{name:<22} {ms:8.2f} ms/step  {real / ms * 1e3:>10,.0f} real tok/s")
    print(
        f"packed / padded throughput ratio: {medians['padded to longest'] / medians['packed']:.2f}x"
    )


if __name__ == "__main__":
    main()
