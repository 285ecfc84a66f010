"""One process of the two-process DDP test (launched by torchrun from test_train_ddp.py).

Usage: python -m torch.distributed.run --nproc_per_node=2 --standalone train_ddp_worker.py OUT
Each rank trains the same tiny run and writes a hash of its final parameters to OUT/rank<R>.txt.
"""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

import torch
from dslkit.train.config import load_config
from dslkit.train.loop import fit
from dslkit.train.packing import synthetic_rows


def main() -> None:
    out = Path(sys.argv[1])
    torch.set_num_threads(1)
    cfg = load_config(
        None,
        [
            "--model.n_layer=2", "--model.n_head=2", "--model.n_embd=32", "--model.block_size=32",
            "--model.dropout=0.1", "--batch_size=4", "--max_steps=6", "--warmup_steps=2",
            "--eval_every=3", "--device=cpu", "--quiet=true", f"--out_dir={out / 'run'}",
        ],
    )  # fmt: skip
    result = fit(cfg, synthetic_rows(24, 32, seed=0), synthetic_rows(6, 32, seed=1))
    digest = hashlib.sha256()
    for name, tensor in sorted(result.model.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().numpy().tobytes())
    dev = result.evals[-1]["dev_loss"] if result.evals else float("nan")
    (out / f"rank{os.environ['RANK']}.txt").write_text(
        f"{digest.hexdigest()} {result.step} {dev}\n"
    )


if __name__ == "__main__":
    main()
