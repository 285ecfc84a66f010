"""Token-id rows packed into flat arrays, and the batches the loop cuts from them.

A training row is a prompt and a target, both token ids. Thousands of short variable-length rows
are stored as two flat int32 arrays plus offsets (the CSR layout), so a dataset is one ``.npz``
that loads in milliseconds and never pickles anything.

Loss is taken on target tokens only: in a batch the model reads ``prompt + target[:-1]`` and is
scored on predicting ``target``; prompt positions and padding get the ignore index (-100).
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from dslkit.train.model import IGNORE_INDEX, STRUCTURE_IDS

from dslkit.errors import ArtifactError

__all__ = ["PackedBatch", "PackedRows", "make_batch", "make_packed_batch", "synthetic_rows"]

FORMAT_VERSION = 1


def _pack(seqs: Sequence[Sequence[int]]) -> tuple[np.ndarray, np.ndarray]:
    offsets = np.zeros(len(seqs) + 1, dtype=np.int64)
    offsets[1:] = np.cumsum([len(s) for s in seqs])
    flat = np.fromiter((t for s in seqs for t in s), dtype=np.int64, count=int(offsets[-1]))
    return flat, offsets


@dataclass(frozen=True)
class PackedRows:
    """Many (prompt_ids, target_ids) rows in flat arrays with offsets.

    Row ``i`` is ``prompt_tokens[prompt_offsets[i]:prompt_offsets[i+1]]`` and likewise for the
    target. Build with :meth:`from_rows`, persist with :meth:`save` / :meth:`load`.
    """

    prompt_tokens: np.ndarray  # int32, all prompts concatenated
    prompt_offsets: np.ndarray  # int64, len(rows) + 1, starts at 0
    target_tokens: np.ndarray  # int32, all targets concatenated
    target_offsets: np.ndarray  # int64, len(rows) + 1, starts at 0
    vocab_size: int  # ids are < vocab_size; the model is built with this many embeddings
    # the tokenizer's element ids (``DslTokenizer.structure()``: structure_opens / _closes /
    # _resets), for a model with structure indices (``GPTConfig.structure_size``); None when
    # the tokenizer has none (trace, split or bpe tokenizers)
    structure: Mapping[str, tuple[int, ...]] | None = None

    def __post_init__(self) -> None:
        n = len(self.prompt_offsets) - 1
        if n < 0 or len(self.target_offsets) != n + 1:
            raise ValueError("prompt_offsets and target_offsets must both have len(rows) + 1")
        for name, toks, offs in (
            ("prompt", self.prompt_tokens, self.prompt_offsets),
            ("target", self.target_tokens, self.target_offsets),
        ):
            if offs[0] != 0 or offs[-1] != len(toks) or np.any(np.diff(offs) < 0):
                raise ValueError(f"{name}_offsets do not describe {name}_tokens")
            if len(toks) and (toks.min() < 0 or toks.max() >= self.vocab_size):
                raise ValueError(f"{name} ids must lie in [0, {self.vocab_size})")
        if n and np.any(np.diff(self.target_offsets) == 0):
            raise ValueError("every row needs at least one target token (it is what is trained)")
        if self.structure is not None and set(self.structure) != set(STRUCTURE_IDS):
            raise ValueError(f"structure must hold exactly {', '.join(STRUCTURE_IDS)}")
        if n and np.any(np.diff(self.prompt_offsets) == 0):
            raise ValueError("every row needs at least one prompt token (generation starts there)")

    @classmethod
    def from_rows(
        cls,
        rows: Iterable[tuple[Sequence[int], Sequence[int]]],
        vocab_size: int | None = None,
        structure: Mapping[str, tuple[int, ...]] | None = None,
    ) -> PackedRows:
        """Pack ``(prompt_ids, target_ids)`` pairs.

        Args:
            rows: the rows, in order (row i keeps index i).
            vocab_size: size of the id space; defaults to ``max id + 1``. Pass the tokenizer's
                vocabulary size so the model has an embedding for every id it may meet later.
            structure: the tokenizer's element ids (see the ``structure`` field).

        Returns:
            The packed rows.
        """
        prompts: list[Sequence[int]] = []
        targets: list[Sequence[int]] = []
        for p, t in rows:
            prompts.append(p)
            targets.append(t)
        p_flat, p_off = _pack(prompts)
        t_flat, t_off = _pack(targets)
        if vocab_size is None:
            vocab_size = int(max(p_flat.max(initial=-1), t_flat.max(initial=-1))) + 1
        return cls(
            p_flat.astype(np.int32), p_off, t_flat.astype(np.int32), t_off, vocab_size, structure
        )

    def __len__(self) -> int:
        return len(self.prompt_offsets) - 1

    def prompt(self, i: int) -> np.ndarray:
        """The prompt ids of row ``i``."""
        return self.prompt_tokens[self.prompt_offsets[i] : self.prompt_offsets[i + 1]]

    def target(self, i: int) -> np.ndarray:
        """The target ids of row ``i``."""
        return self.target_tokens[self.target_offsets[i] : self.target_offsets[i + 1]]

    def row_lengths(self) -> np.ndarray:
        """Total ids per row (prompt + target)."""
        return np.diff(self.prompt_offsets) + np.diff(self.target_offsets)

    def max_positions(self) -> int:
        """The block size needed to train on every row whole: longest row minus one."""
        return int(self.row_lengths().max(initial=1)) - 1

    def save(self, path: str | Path) -> Path:
        """Write the rows to ``path`` (an ``.npz``; the suffix is added when missing).

        Returns:
            The path written.
        """
        path = Path(path)
        if path.suffix != ".npz":
            path = path.with_name(path.name + ".npz")
        path.parent.mkdir(parents=True, exist_ok=True)
        arrays: dict[str, np.ndarray] = {
            "format_version": np.int64(FORMAT_VERSION),
            "vocab_size": np.int64(self.vocab_size),
            "prompt_tokens": self.prompt_tokens,
            "prompt_offsets": self.prompt_offsets,
            "target_tokens": self.target_tokens,
            "target_offsets": self.target_offsets,
        }
        for key, ids in (self.structure or {}).items():
            arrays[key] = np.asarray(ids, dtype=np.int64)
        np.savez(path, **arrays)  # type: ignore[arg-type]
        return path

    @classmethod
    def load(cls, path: str | Path) -> PackedRows:
        """Read rows written by :meth:`save` (no pickle is ever loaded).

        Args:
            path: the ``.npz`` file.

        Returns:
            The packed rows.

        Raises:
            ArtifactError: the file is missing, a folder, truncated, not an ``.npz`` of packed
                rows, of another format version, or its arrays do not describe valid rows; the
                message names the file.
        """
        path = Path(path)

        def fail(reason: str) -> ArtifactError:
            return ArtifactError(f"cannot load packed rows {path}: {reason}")

        if path.is_dir():
            raise fail("it is a folder, not an .npz file")
        try:
            with np.load(path, allow_pickle=False) as z:
                version = int(z["format_version"])
                if version != FORMAT_VERSION:
                    raise fail(f"packed format {version}, expected {FORMAT_VERSION}")
                return cls(
                    prompt_tokens=z["prompt_tokens"].astype(np.int32),
                    prompt_offsets=z["prompt_offsets"].astype(np.int64),
                    target_tokens=z["target_tokens"].astype(np.int32),
                    target_offsets=z["target_offsets"].astype(np.int64),
                    vocab_size=int(z["vocab_size"]),
                    structure=(
                        {
                            k: tuple(int(i) for i in z[k]) if k in z.files else ()
                            for k in STRUCTURE_IDS
                        }
                        # packs written before field ids existed load with none of them
                        if STRUCTURE_IDS[0] in z.files
                        else None
                    ),
                )
        except FileNotFoundError:
            raise fail("no such file") from None
        except KeyError as exc:
            raise fail(f"missing array {exc}") from None
        # A truncated zip is BadZipFile, a truncated member EOFError or ValueError, an object
        # array (pickle) ValueError, a bad layout ValueError from __post_init__.
        except (zipfile.BadZipFile, EOFError, ValueError, TypeError, OSError) as exc:
            raise fail(f"truncated or corrupt ({type(exc).__name__}: {exc})") from None


def _sequences(
    data: PackedRows, indices: Sequence[int] | np.ndarray
) -> list[tuple[np.ndarray, int]]:
    """``(prompt + target, prompt length)`` of each row, in order: what both batch cutters lay out."""
    out = []
    for i in indices:
        p, t = data.prompt(int(i)), data.target(int(i))
        out.append((np.concatenate([p, t]), len(p)))
    return out


def make_batch(
    data: PackedRows, indices: Sequence[int] | np.ndarray, pad_id: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    """Cut a right-padded training batch out of packed rows.

    Args:
        data: the rows.
        indices: which rows, in batch order.
        pad_id: id put in padded input positions (never scored, so any valid id works).

    Returns:
        ``(x, y)``, both (len(indices), longest row - 1) int64: ``x`` is prompt + target[:-1],
        ``y`` holds the next ids on target positions and -100 on prompt and padding positions.
    """
    seqs = _sequences(data, indices)
    width = max(len(s) for s, _ in seqs) - 1
    x = np.full((len(seqs), width), pad_id, dtype=np.int64)
    y = np.full((len(seqs), width), IGNORE_INDEX, dtype=np.int64)
    for r, (s, p_len) in enumerate(seqs):
        n = len(s) - 1
        x[r, :n] = s[:-1]
        # y[j] predicts s[j + 1]; the first target token is predicted at position p_len - 1.
        y[r, p_len - 1 : n] = s[p_len:]
    return torch.from_numpy(x), torch.from_numpy(y)


@dataclass(frozen=True)
class PackedBatch:
    """Several rows per sequence, each row seeing only itself.

    ``x``/``y`` as in :func:`make_batch`; ``positions`` restarts at 0 for every row, and
    ``segments`` numbers the rows of a sequence (padding gets a segment of its own), so
    attention restricted to equal segments reads exactly what a row alone would
    (:meth:`dslkit.train.model.GPT.forward`).
    """

    x: torch.Tensor
    y: torch.Tensor
    positions: torch.Tensor
    segments: torch.Tensor


WIDEN_STEP = 64  # a packed batch too narrow for a row widens to a multiple of this


def make_packed_batch(
    data: PackedRows, indices: Sequence[int] | np.ndarray, width: int, pad_id: int = 0
) -> PackedBatch:
    """Pack rows into as few sequences of ``width`` positions as first-fit decreasing finds.

    Padding a random batch to its longest row wastes ~40% of the positions when lengths vary
    as scene rows do; packed, the same rows cost only their own positions and the loss is the
    same (rows cannot see each other, positions restart per row).

    Args:
        data: the rows.
        indices: which rows; every one lands in exactly one sequence.
        width: positions per sequence; when a row is longer, widened to the next multiple of
            ``WIDEN_STEP`` that holds it.
        pad_id: id put in unused positions (never scored).

    Returns:
        A :class:`PackedBatch` of shape (n_sequences, width).
    """
    seqs = _sequences(data, indices)
    longest = max(len(s) - 1 for s, _ in seqs)
    if longest > width:
        # Widen in steps, not to the exact length: a batch shape per distinct long row made
        # oneDNN compile a bfloat16 kernel set almost every step (the demo's loop: ~100 widths
        # in 400 steps; 18.9 -> 28.0 steps/s in bfloat16 with steps of 64, float32 unchanged).
        width = -(-longest // WIDEN_STEP) * WIDEN_STEP
    bins: list[list[int]] = []  # row numbers per sequence
    room: list[int] = []
    for r in sorted(range(len(seqs)), key=lambda r: -len(seqs[r][0])):
        n = len(seqs[r][0]) - 1
        for b, free in enumerate(room):
            if n <= free:
                bins[b].append(r)
                room[b] -= n
                break
        else:
            bins.append([r])
            room.append(width - n)
    shape = (len(bins), width)
    x = np.full(shape, pad_id, dtype=np.int64)
    y = np.full(shape, IGNORE_INDEX, dtype=np.int64)
    pos = np.zeros(shape, dtype=np.int64)
    seg = np.full(shape, len(seqs), dtype=np.int64)  # padding: a segment no row has
    for b, rows in enumerate(bins):
        at = 0
        for k, r in enumerate(rows):
            s, p_len = seqs[r]
            n = len(s) - 1
            x[b, at : at + n] = s[:-1]
            y[b, at + p_len - 1 : at + n] = s[p_len:]
            pos[b, at : at + n] = np.arange(n)
            seg[b, at : at + n] = k
            at += n
    return PackedBatch(*(torch.from_numpy(a) for a in (x, y, pos, seg)))


def synthetic_rows(
    n_rows: int,
    vocab_size: int = 64,
    *,
    prompt_len: tuple[int, int] = (3, 6),
    target_len: tuple[int, int] = (6, 12),
    end_id: int | None = 1,
    seed: int = 0,
) -> PackedRows:
    """Random prompt -> target rows with distinct prompts, for smoke tests and benchmarks.

    There is no structure to learn, so a model can only memorise them: the memorisation gate
    with no language attached.

    Args:
        n_rows: how many rows.
        vocab_size: ids are drawn from ``[2, vocab_size)`` (0 and 1 stay free for pad and end).
        prompt_len: inclusive (min, max) prompt length.
        target_len: inclusive (min, max) target length, end id included.
        end_id: appended to every target so decoding can stop on it; ``None`` for no end id.
        seed: fixes the rows.

    Returns:
        The packed rows.
    """
    rng = np.random.default_rng(seed)
    seen: set[tuple[int, ...]] = set()
    rows: list[tuple[list[int], list[int]]] = []
    while len(rows) < n_rows:
        p = tuple(
            int(t) for t in rng.integers(2, vocab_size, rng.integers(*prompt_len, endpoint=True))
        )
        if p in seen:
            continue
        seen.add(p)
        body = rng.integers(
            2, vocab_size, int(rng.integers(*target_len, endpoint=True)) - (end_id is not None)
        )
        t = [int(v) for v in body] + ([end_id] if end_id is not None else [])
        rows.append((list(p), t))
    return PackedRows.from_rows(rows, vocab_size=vocab_size)
