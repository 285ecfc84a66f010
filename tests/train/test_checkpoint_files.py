"""Checkpoint files: safetensors with a checksum; every damaged file is one clear error."""

from __future__ import annotations

import dataclasses
import json
import struct
from pathlib import Path

import pytest
import torch
from dslkit.train.checkpoint import (
    MODEL_FILE,
    atomic_save,
    load_checkpoint,
    load_model,
    model_payload,
    save_model,
)
from dslkit.train.cli import main
from dslkit.train.model import GPT, GPTConfig

from dslkit.errors import CheckpointError

REPO = Path(__file__).resolve().parents[2]
TINY = REPO / "examples" / "configs" / "tiny.toml"
# tiny.toml, shortened: a few steps are enough to have checkpoints to break.
FIT = ["fit", str(TINY), "--warmup_steps=1", "--max_steps=4", "--quiet=true", "--data.dev="]
CONFIG = GPTConfig(vocab_size=24, block_size=16, n_layer=1, n_head=2, n_embd=16)


def tiny_model(**changes) -> GPT:
    torch.manual_seed(0)
    return GPT(dataclasses.replace(CONFIG, **changes))


def data_start(path: Path) -> int:
    """Offset of the first tensor byte: 8-byte header length, then the JSON header."""
    (n,) = struct.unpack("<Q", path.read_bytes()[:8])
    return 8 + n


def test_model_round_trips_exactly_and_tied_weights_are_stored_once(tmp_path) -> None:
    for tie in (True, False):
        model = tiny_model(tie_weights=tie, bias=not tie)
        path = save_model(model, tmp_path / f"tie{tie}.safetensors")
        back = load_model(path)
        a, b = model.state_dict(), back.state_dict()
        assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
        # A tied model keeps one matrix: the loaded one is still tied, not two copies.
        assert (back.wte.weight.data_ptr() == back.lm_head.weight.data_ptr()) is tie
        from safetensors import safe_open

        with safe_open(str(path), "pt") as f:
            names = set(f.keys())
        stored = len(names & {"model/wte.weight", "model/lm_head.weight"})
        assert stored == (1 if tie else 2)


def test_int_keys_tuples_and_non_finite_numbers_survive(tmp_path) -> None:
    payload = {
        "kind": "model",
        "config": dataclasses.asdict(CONFIG),
        "model": model_payload(tiny_model())["model"],
        "extra": {0: torch.ones(2), 7: (1.5, float("inf"), None, "x")},
    }
    back = load_checkpoint(atomic_save(payload, tmp_path / "x.safetensors"))
    assert list(back["extra"]) == [0, 7] and back["extra"][7][:2] == (1.5, float("inf"))
    assert torch.equal(back["extra"][0], torch.ones(2))


def damage(path: Path, how: str, tmp_path: Path) -> Path:
    good = path.read_bytes()
    if how == "truncated":
        path.write_bytes(good[: len(good) - 100])
    elif how == "truncated header":
        path.write_bytes(good[:20])
    elif how == "empty":
        path.write_bytes(b"")
    elif how == "garbage":
        path.write_bytes(bytes(range(256)) * 8)
    elif how == "bit flip in a tensor":
        data = bytearray(good)
        at = data_start(path) + (len(good) - data_start(path)) // 2
        data[at] ^= 0x10
        path.write_bytes(bytes(data))
    elif how == "bit flip in the metadata":
        data = bytearray(good)
        at = bytes(data).index(b'"n_layer\\":1') + len(b'"n_layer\\":')
        data[at] = ord("3")  # still valid JSON, still a valid config: only the checksum knows
        path.write_bytes(bytes(data))
    elif how == "foreign safetensors":
        from safetensors.torch import save_file

        save_file({"weight": torch.zeros(3)}, str(path))
    elif how == "json file":
        path.write_text(json.dumps({"kind": "model"}))
    elif how == "other torch file":
        torch.save({"weights": torch.zeros(2)}, path)
    elif how == "missing key":
        payload = model_payload(tiny_model())
        del payload["model"]
        atomic_save(payload, path)
    elif how == "missing weight":
        payload = model_payload(tiny_model())
        del payload["model"]["ln_f.weight"]
        atomic_save(payload, path)
    elif how == "bad config":
        payload = model_payload(tiny_model())
        payload["config"]["n_head"] = 3  # 16 is not divisible by 3
        atomic_save(payload, path)
    elif how == "folder":
        path.unlink()
        path.mkdir()
    elif how == "missing":
        path.unlink()
    else:  # pragma: no cover
        raise AssertionError(how)
    return path


KINDS = [
    "truncated",
    "truncated header",
    "empty",
    "garbage",
    "bit flip in a tensor",
    "bit flip in the metadata",
    "foreign safetensors",
    "json file",
    "other torch file",
    "missing key",
    "missing weight",
    "bad config",
    "folder",
    "missing",
]


@pytest.mark.parametrize("how", KINDS)
def test_every_damaged_checkpoint_is_one_error_naming_the_file(tmp_path, how) -> None:
    path = save_model(tiny_model(), tmp_path / MODEL_FILE)
    damage(path, how, tmp_path)
    with pytest.raises(CheckpointError, match=f"cannot load checkpoint {path}") as exc:
        load_model(path)
    assert "\n" not in str(exc.value)  # one line a person reads, not a dump
    if how.startswith("bit flip"):
        assert "checksum mismatch" in str(exc.value)


def test_bit_flip_is_caught_because_of_the_checksum(tmp_path) -> None:
    """Without the checksum a flipped tensor byte loads silently: prove the file still parses."""
    path = damage(
        save_model(tiny_model(), tmp_path / "m.safetensors"), "bit flip in a tensor", tmp_path
    )
    from safetensors.torch import load_file

    assert load_file(str(path))  # the container itself is intact: safetensors sees nothing
    with pytest.raises(CheckpointError, match="checksum mismatch"):
        load_checkpoint(path)


def test_legacy_pt_checkpoints_still_load(tmp_path) -> None:
    model = tiny_model()
    legacy = {
        "kind": "model",
        "format_version": 1,
        "config": dataclasses.asdict(model.config),
        "model": {k: v.detach().cpu() for k, v in model.state_dict().items()},
    }
    torch.save(legacy, tmp_path / "model.pt")
    back = load_model(tmp_path / "model.pt")
    assert all(torch.equal(back.state_dict()[k], v) for k, v in legacy["model"].items())
    raw = (tmp_path / "model.pt").read_bytes()
    (tmp_path / "model.pt").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(CheckpointError, match=r"model\.pt: a torch file that does not load"):
        load_model(tmp_path / "model.pt")


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory) -> Path:
    """A finished tiny run (synthetic rows) with model and full checkpoints."""
    root = tmp_path_factory.mktemp("run")
    threads = torch.get_num_threads()
    try:
        assert main(["synth", str(root / "data"), "--rows", "8", "--dev-rows", "4"]) == 0
        args = [
            *FIT,
            f"--out_dir={root / 'run'}",
            f"--data.train={root / 'data' / 'train.npz'}",
            f"--data.dev={root / 'data' / 'dev.npz'}",  # overrides FIT's: dev loss is logged
            "--eval_every=2",
        ]
        assert main(args) == 0
    finally:
        torch.set_num_threads(threads)  # tiny.toml sets num_threads=1
    return root


@pytest.mark.parametrize("how", ["truncated", "empty", "garbage", "bit flip in a tensor", "folder"])
def test_fit_resume_from_a_damaged_checkpoint_exits_2_naming_it(
    trained_run, tmp_path, how, capsys
) -> None:
    ckpt = tmp_path / "ckpt.safetensors"
    ckpt.write_bytes((trained_run / "run" / "ckpt.safetensors").read_bytes())
    damage(ckpt, how, tmp_path)
    args = [
        *FIT,
        f"--out_dir={tmp_path / 'resumed'}",
        f"--data.train={trained_run / 'data' / 'train.npz'}",
        f"--resume={ckpt}",
    ]
    threads = torch.get_num_threads()
    try:
        assert main(args) == 2
    finally:
        torch.set_num_threads(threads)
    err = capsys.readouterr().err
    assert err.startswith(f"error: cannot load checkpoint {ckpt}") and "Traceback" not in err


def test_fit_resume_with_a_missing_state_key_names_the_key(trained_run, tmp_path, capsys) -> None:
    full = load_checkpoint(trained_run / "run" / "ckpt.safetensors", "full")
    del full["optimizer"]
    ckpt = atomic_save(full, tmp_path / "ckpt.safetensors")
    train = trained_run / "data" / "train.npz"
    assert (
        main([*FIT, f"--data.train={train}", f"--out_dir={tmp_path / 'o'}", f"--resume={ckpt}"])
        == 2
    )
    assert "missing key 'optimizer'" in capsys.readouterr().err


def test_truncated_packed_rows_exit_2_naming_the_file(trained_run, tmp_path, capsys) -> None:
    rows = tmp_path / "train.npz"
    raw = (trained_run / "data" / "train.npz").read_bytes()
    rows.write_bytes(raw[: len(raw) // 2])
    args = [*FIT, f"--data.train={rows}", f"--out_dir={tmp_path / 'o'}"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "data.train" in err and f"cannot load packed rows {rows}" in err


@pytest.mark.parametrize("how", ["truncated", "garbage", "bit flip in a tensor", "folder"])
def test_probe_on_a_damaged_checkpoint_exits_2_naming_it(
    trained_run, tmp_path, how, capsys
) -> None:
    run = tmp_path / "run"
    run.mkdir()
    (run / "tokenizer").mkdir()  # the checkpoint fails before the tokenizer is read
    ckpt = run / MODEL_FILE
    ckpt.write_bytes((trained_run / "run" / MODEL_FILE).read_bytes())
    damage(ckpt, how, tmp_path)
    cases = REPO / "examples" / "probes" / "demo-scenes.jsonl"
    assert main(["probe", str(ckpt), "--cases", str(cases)]) == 2
    err = capsys.readouterr().err
    # A folder is read as a run folder without model.safetensors; the rest fail to load.
    expected = f"no checkpoint in {ckpt}" if how == "folder" else f"cannot load checkpoint {ckpt}"
    assert err.startswith(f"error: {expected}") and "Traceback" not in err


def test_the_folder_is_fsynced_after_the_rename(tmp_path, monkeypatch) -> None:
    import os
    import stat

    synced: list[tuple[str, bool]] = []  # (kind, destination file exists yet)
    real_fsync = os.fsync
    dest = tmp_path / MODEL_FILE

    def spy(fd: int) -> None:
        kind = "dir" if stat.S_ISDIR(os.fstat(fd).st_mode) else "file"
        synced.append((kind, dest.exists()))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", spy)
    save_model(tiny_model(), dest)
    # The bytes are made durable before the rename, the rename (the folder) after it.
    assert synced == [("file", False), ("dir", True)]
