"""Content binding (dotted paths through dicts and lists) and contract loading."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import scene_dsl
from dslkit.errors import ContractError, Severity

SCENE = (
    "[scene]\n[layout:poster_stack]\n"
    "[section_card] [title_ref:cards.0.title] [value_ref:@cards.1.value] [/section_card]\n"
    "[header_band:@header]\n"
    "[/scene]\n"
)
CONTENT = {
    "cards": [{"title": "Latency"}, {"value": "3 ms"}],
    "header": {"headline": "H", "subtitle": "S"},
}


def test_scene_bind_resolves_dict_keys_list_indices_and_at_prefix() -> None:
    scene = scene_dsl.parse(SCENE)
    binding = scene_dsl.bind(scene, CONTENT)
    assert binding.ok and binding.diagnostics == ()
    assert binding.get("cards.0.title") == "Latency"
    assert binding.get("@cards.1.value") == "3 ms"  # '@' spelling is the same ref
    assert binding["header"] == {"headline": "H", "subtitle": "S"}  # a ref to a whole object
    assert binding.get("nope", "fallback") == "fallback"


@pytest.mark.parametrize(
    ("content", "ref", "why"),
    [
        ({"cards": [{"title": "T"}]}, "cards.1.value", "list of 1"),
        ({"cards": {"0": {"title": "T"}}, "header": {}}, "cards.1.value", "no key '1'"),
        ({"cards": ["flat", "strings"], "header": {}}, "cards.0.title", "is a str"),
        ({"cards": [{"title": None}, {"value": "v"}], "header": {}}, "cards.0.title", "null"),
        ({"cards": [{"title": "T"}, {"value": "v"}]}, "header", "no key 'header'"),
    ],
)
def test_scene_bind_unresolved_ref_is_an_error_with_position(
    content: dict, ref: str, why: str
) -> None:
    scene = scene_dsl.parse(SCENE)
    errors = [d for d in scene_dsl.bind(scene, content).diagnostics if d.is_error]
    hit = [d for d in errors if f"-> {ref}:" in d.message]
    assert hit and all(d.code == "S601" and d.failure_class == "unresolved_ref" for d in errors)
    assert why in hit[0].message
    line = SCENE.splitlines()[hit[0].line - 1]
    assert ref in line[hit[0].column - 1 :]  # the position points at the ref's token


def test_scene_unused_content_warns_without_failing() -> None:
    scene = scene_dsl.parse(SCENE)
    content = {**CONTENT, "footer": {"text": "unused"}, "cards": [*CONTENT["cards"], {"spare": 1}]}
    binding = scene_dsl.bind(scene, content)
    warnings = [d for d in binding.diagnostics if d.code == "S602"]
    assert binding.ok and {d.severity for d in warnings} == {Severity.WARNING}
    assert sorted(d.message.split()[1] for d in warnings) == ["cards.2.spare", "footer.text"]
    assert scene_dsl.bind(scene, content, report_unused=False).diagnostics == ()


def test_scene_unused_content_check_is_not_quadratic() -> None:
    n = 20_000
    text = (
        "[scene] [layout:poster_stack] "
        + " ".join(f"[section_card:@c.{i}]" for i in range(n))
        + " [/scene]"
    )
    scene = scene_dsl.parse(text)
    content = {"c": [f"t{i}" for i in range(n)], "extra": [str(i) for i in range(n)]}
    diags = scene_dsl.bind(scene, content).diagnostics
    assert [d.code for d in diags] == ["S602"] * 21  # 20 listed, then "... and N more"
    assert str(n - 20) in diags[-1].message


def test_scene_contract_by_name_and_by_path(tmp_path: Path) -> None:
    v1 = scene_dsl.load_contract("v1")
    assert scene_dsl.load_contract(v1) is v1
    # The default is v2 (it reads the CKE corpus too); v1 stays loadable by name.
    v2 = scene_dsl.load_contract("v2")
    assert scene_dsl.load_contract() is v2 and v2 is not v1
    assert len(v1.families) == 19 and len(v1.components) >= 46
    data = json.loads(
        (Path(scene_dsl.__file__).parent / "contracts" / "v1.json").read_text("utf-8")
    )
    data["version"] = "mine"
    data["components"]["section_card"]["fields"]["kicker_ref"] = "ref"
    path = tmp_path / "mine.json"
    path.write_text(json.dumps(data), "utf-8")
    mine = scene_dsl.load_contract(path)
    assert mine.version == "mine" and mine.components["section_card"].field("kicker_ref")
    text = "[scene] [layout:poster_stack] [section_card] [title_ref:t] [kicker_ref:k] [/section_card] [/scene]"
    scene = scene_dsl.parse(text, contract=path)
    assert scene_dsl.validate(scene, contract=path) == []
    assert [d.code for d in scene_dsl.validate(scene)] == ["S305"]  # v1 has no kicker_ref


def _write(tmp_path: Path, data: object, raw: str | None = None) -> Path:
    path = tmp_path / "c.json"
    path.write_text(raw if raw is not None else json.dumps(data), "utf-8")
    return path


def _v1() -> dict:
    return json.loads(
        (Path(scene_dsl.__file__).parent / "contracts" / "v1.json").read_text("utf-8")
    )


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.pop("components"), "components"),
        (
            lambda d: d["components"]["divider"].update(fields={"style": "enum:nope"}),
            "unknown enum",
        ),
        (
            lambda d: d["components"]["divider"].update(fields={"style": "colour"}),
            "unknown field kind",
        ),
        (lambda d: d["components"]["axis"]["fields"].update(ticks="int:a:b"), "int:MIN:MAX"),
        (lambda d: d["components"]["divider"].update(required=["nope"]), "required names unknown"),
        (lambda d: d["components"]["divider"].update(row=[["style*", "style"]]), "only the last"),
        (lambda d: d["components"]["divider"].update(row=[["nope"]]), "unknown field"),
        (lambda d: d["families"].pop("timeline"), "without a family"),
        (lambda d: d["families"]["timeline"]["admits"].append("ghost"), "unknown components"),
        (lambda d: d["components"]["table_block"].update(children=["ghost"]), "unknown child"),
        (lambda d: d["attributes"].pop(1), "no 'layout'"),
        (lambda d: d["attributes"].__setitem__(0, 5), "malformed"),
        (lambda d: d["attributes"][9].__setitem__("min", "one"), "malformed"),  # ValueError
        (lambda d: d["attributes"][0].__setitem__("name", ["canvas"]), "wrong types"),
        (lambda d: d["families"]["timeline"].__setitem__("requires_any", [1]), "wrong types"),
        (lambda d: d["components"]["table_block"].__setitem__("children", [["x"]]), "wrong types"),
        (lambda d: d["enums"].__setitem__("tone", [{"a": 1}]), "wrong types"),
    ],
)
def test_scene_malformed_contract_gives_contract_error(
    tmp_path: Path, mutate, message: str
) -> None:
    data = _v1()
    mutate(data)
    with pytest.raises(ContractError) as info:
        scene_dsl.load_contract(_write(tmp_path, data))
    assert message in str(info.value)


def test_scene_unreadable_contracts(tmp_path: Path) -> None:
    with pytest.raises(ContractError, match="no bundled contract named 'v9'"):
        scene_dsl.load_contract("v9")
    with pytest.raises(ContractError, match="cannot read"):
        scene_dsl.load_contract(tmp_path / "missing.json")
    with pytest.raises(ContractError, match=r"not JSON: .* at 1:"):
        scene_dsl.load_contract(_write(tmp_path, None, raw="{nope"))
    with pytest.raises(ContractError):
        scene_dsl.load_contract(_write(tmp_path, ["a", "list"]))
    with pytest.raises(ContractError):
        scene_dsl.parse("[scene] [/scene]", contract=tmp_path / "missing.json")
