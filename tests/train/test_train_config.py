"""Run configs: files, --key=value overrides, errors that name the key."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from dslkit.train.config import ConfigError, TrainConfig, config_from_dict, load_config

from dslkit.errors import DslkitError

REPO = Path(__file__).resolve().parents[2]


def test_toml_file_and_overrides(tmp_path) -> None:
    path = tmp_path / "run.toml"
    path.write_text(
        'lr = 0.002\nstop_ids = [1, 2]\nheld_constant = ["data"]\n'
        "[model]\nn_layer = 3\nn_embd = 48\nn_head = 4\n"
    )
    cfg = load_config(path, ["--model.n_layer=5", "--batch_size=7", "--goal=0.9", "--quiet=yes"])
    assert cfg.model.n_layer == 5 and cfg.model.n_embd == 48  # override wins, siblings kept
    assert cfg.lr == 0.002 and cfg.batch_size == 7 and cfg.goal == 0.9 and cfg.quiet is True
    assert cfg.stop_ids == (1, 2) and cfg.held_constant == ("data",)
    assert load_config(path, ["--stop_ids=3,4"]).stop_ids == (3, 4)
    assert load_config(path, ["--stop_ids=[]"]).stop_ids == ()
    assert load_config(path, ["--goal=none"]).goal is None


def test_json_file_round_trips_to_dict(tmp_path) -> None:
    cfg = load_config(None, ["--model.dropout=0.1", "--stop_ids=1", "--primary_axis=capacity"])
    path = tmp_path / "run.json"
    path.write_text(json.dumps(cfg.to_dict()))
    assert load_config(path) == cfg
    assert config_from_dict(TrainConfig, cfg.to_dict()) == cfg


@pytest.mark.parametrize(
    ("overrides", "key"),
    [
        (["--model.n_layr=4"], "model.n_layr"),
        (["--learning_rate=1"], "learning_rate"),
        (["--data.trian=x.npz"], "data.trian"),
        (["--batch_size=lots"], "batch_size"),
        (["--batch_size=1.5"], "batch_size"),
        (["--lr=fast"], "lr"),
        (["--quiet=maybe"], "quiet"),
        (["--dtype=float64"], "dtype"),
        (["--stop_ids=1,x"], "stop_ids[1]"),
        (["--model=big"], "model"),
        (["--batch_size=0"], "batch_size"),
        (["--min_lr=1", "--lr=0.1"], "min_lr"),
    ],
)
def test_override_errors_name_the_key(overrides: list[str], key: str) -> None:
    with pytest.raises(ConfigError, match=key.replace("[", r"\[").replace("]", r"\]")):
        load_config(None, overrides)


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"batch_size": "32"}, "batch_size"),  # a string is not an int in a file
        ({"quiet": 1}, "quiet"),  # nor is 1 a boolean
        ({"lr": True}, "lr"),
        ({"model": {"n_head": 4.0}}, "model.n_head"),
        ({"model": {"bias": False, "width": 3}}, "model.width"),
        ({"held_constant": "data"}, "held_constant"),
    ],
)
def test_file_values_are_type_checked(data: dict, key: str) -> None:
    with pytest.raises(ConfigError, match=key):
        config_from_dict(TrainConfig, data)


def test_error_type_and_messages() -> None:
    assert issubclass(ConfigError, DslkitError)
    with pytest.raises(ConfigError, match="--key=value"):
        load_config(None, ["lr=1"])
    with pytest.raises(ConfigError, match="divisible"):
        load_config(None, ["--model.n_embd=30", "--model.n_head=4"])
    with pytest.raises(ConfigError, match="held constant"):
        load_config(None, ["--primary_axis=data", "--held_constant=data,tokenizer"])
    with pytest.raises(ConfigError, match="unknown axis"):
        load_config(None, ["--primary_axis=vibes"])


def test_unreadable_files(tmp_path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("lr = = 1")
    with pytest.raises(ConfigError, match=r"bad\.toml"):
        load_config(bad)
    yaml = tmp_path / "run.yaml"
    yaml.write_text("lr: 1")
    with pytest.raises(ConfigError, match=r"\.toml or \.json"):
        load_config(yaml)


@pytest.mark.parametrize("name", ["tiny.toml", "memorize.toml"])
def test_shipped_configs_load(name: str) -> None:
    cfg = load_config(REPO / "examples" / "configs" / name)
    assert cfg.data.train.endswith(".npz")


def test_describe_reads_the_config_and_resolves_the_dtype() -> None:
    cfg = config_from_dict(
        TrainConfig,
        {
            "max_steps": 700,
            "warmup_steps": 10,
            "batch_size": 9,
            "dtype": "float32",
            "device": "cpu",
            "model": {"n_layer": 3, "n_embd": 48, "n_head": 4},
        },
    )
    assert cfg.describe() == "3 layers x 48 wide, 700 steps of 9 rows (float32)"
    # "auto" is printed as what this machine trains in, never as "auto"
    auto = config_from_dict(TrainConfig, {**cfg.to_dict(), "dtype": "auto"}).describe()
    assert auto.endswith(("(float32)", "(bfloat16)"))
