"""Torch tests under pytest-xdist: one intra-op thread per worker.

``make test`` runs two workers on two cores; with torch's default of one thread per core each,
four spinning OpenMP threads share two cores and tiny models run tens of times slower (a
2-second decoding test took 20 s when both workers generated at once).
"""

from __future__ import annotations

import os

import torch

if os.environ.get("PYTEST_XDIST_WORKER"):
    torch.set_num_threads(1)
