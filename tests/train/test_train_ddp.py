"""Two CPU processes under torchrun (gloo) stay in sync; only rank 0 writes files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
import torch.distributed as dist

HERE = Path(__file__).resolve().parent


REPO = HERE.parents[1]


@pytest.mark.skipif(
    not (dist.is_available() and dist.is_gloo_available()),
    reason="torch.distributed with the gloo backend is not available in this torch build",
)
def test_two_processes_end_with_identical_parameters(tmp_path) -> None:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
        "OMP_NUM_THREADS": "1",
    }

    def launch(out: Path) -> subprocess.CompletedProcess[str]:
        cmd = [
            sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", "--standalone",
            str(HERE / "train_ddp_worker.py"), str(out),
        ]  # fmt: skip
        out.mkdir()
        return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)

    out = tmp_path / "first"
    proc = launch(out)
    if proc.returncode != 0:
        # the two-process launch has failed now and then in full suite runs on a busy 2-core
        # machine (not reproduced alone; a likely cause is torchrun's free-port pick, which
        # closes the port before the workers bind it). One fresh start in a clean folder tells
        # that apart from a bug, which fails again. The retry must not hide anything: every
        # first failure is reported as a warning in the test summary, with its output. (A
        # built-in category: pytest-xdist hands a worker's warning to the controller by its
        # class's module, and a test module is not importable there, which crashed the run.)
        first = proc.stdout[-1500:] + proc.stderr[-1500:]
        message = f"DDP launch retried: first launch failed (rc {proc.returncode}):\n{first}"
        warnings.warn(message, UserWarning, stacklevel=1)
        out = tmp_path / "second"
        proc = launch(out)
        assert proc.returncode == 0, (
            f"failed twice; first:\n{first}\nsecond:\n" + proc.stdout[-3000:] + proc.stderr[-3000:]
        )

    rank0 = (out / "rank0.txt").read_text().split()
    rank1 = (out / "rank1.txt").read_text().split()
    assert rank0 == rank1  # same parameter hash, same step, same all-reduced dev loss
    assert rank0[1] == "6"

    # Only rank 0 logs, once per event, and it knows it ran with two processes.
    log = [json.loads(line) for line in (out / "run" / "log.jsonl").read_text().splitlines()]
    assert [r["event"] for r in log].count("start") == 1
    assert log[0]["world_size"] == 2
    assert [r["step"] for r in log if r["event"] == "eval"] == [3, 6]
