"""Every message the depot-file loader can give is Chinese: pydantic's errors go through one table
(protocols/pydantic_zh.py), and the table covers every error type the depot model produces when
each of its settings is given a wrong value, left out, or joined by an unknown one."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel, ValidationError

from protocols.depot import ConfigErrors, DepotConfig, parse_depot_config
from protocols.depot.model import SerialBus, TcpBus
from protocols.pydantic_zh import (
    FALLBACK,
    TEMPLATES,
    is_known,
    show_value,
    translate,
    union_message,
)
from protocols.yaml_zh import yaml_reason

BASE_FILE = Path(__file__).resolve().parents[1] / "cases" / "depot" / "example-is-valid" / "depot.yaml"
# One of each kind of wrong value a person might write: text, negative, zero, huge, fraction,
# a boolean, a list, an empty list, a mapping, an empty text, a long text, nothing.
WRONG_VALUES: list[Any] = ["zz x", -1, 0, 10**30, 1.5, True, [1], [], {"a": 1}, "", "x" * 300, None]
CJK = re.compile(r"[\u4e00-\u9fff]")
# pydantic's own English, which must never reach depot staff.
ENGLISH = re.compile(r"Input should|Field required|should (be|have|match)|Extra inputs|Unable to|"
                     r"Value error|valid (integer|number|string|dictionary|list|boolean)")


def base() -> dict:
    data = yaml.safe_load(BASE_FILE.read_text(encoding="utf-8"))
    DepotConfig.model_validate(data)  # the base is valid: every error below is the one put in
    return data


def complete(model: type[BaseModel], data: dict) -> dict:
    """`data` with every section left to its defaults written out as `{}`, so that the settings
    inside it are reached too."""
    for name, field in model.model_fields.items():
        inner = _nested_model(field.annotation)
        value = data.get(name)
        if inner is None:
            continue
        if value is None and isinstance(field.get_default(call_default_factory=True), BaseModel):
            data[name] = value = {}
        if isinstance(value, dict):
            complete(inner, value)
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, dict):
                    complete(SerialBus if item.get("kind") == "serial" else TcpBus
                             if item.get("kind") == "tcp" else inner, item)
    return data


def settings(model: type[BaseModel], data: Any, path: tuple = ()) -> list[tuple[tuple, type[BaseModel]]]:
    """(path, model owning the setting) of every setting present in `data`, walking nested
    mappings and the first item of every list."""
    out = []
    if not isinstance(data, dict):
        return out
    if model in (SerialBus, TcpBus) or (isinstance(data.get("kind"), str) and "units" in data):
        model = SerialBus if data.get("kind") == "serial" else TcpBus
    for name in dict.fromkeys([*data, *model.model_fields]):
        value = data.get(name)
        field = model.model_fields.get(name)
        out.append(((*path, name), model))
        inner = _nested_model(field.annotation) if field else None
        if isinstance(value, dict) and inner is not None:
            out += settings(inner, value, (*path, name))
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            item_model = inner or (SerialBus if name == "buses" else None)
            if item_model is not None:
                out += settings(item_model, value[0], (*path, name, 0))
    return out


def _nested_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _nested_model(arg)
        if found is not None:
            return found
    return None


def put(data: dict, path: tuple, value: Any) -> dict:
    out = copy.deepcopy(data)
    node = out
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return out


def drop(data: dict, path: tuple) -> dict:
    out = copy.deepcopy(data)
    node = out
    for part in path[:-1]:
        node = node[part]
    del node[path[-1]]
    return out


def _at(data: Any, path: tuple) -> Any:
    for part in path:
        data = data[part]
    return data


def variants() -> list[dict]:
    """The base with one mistake each: every setting given every wrong value, every required
    setting left out, an unknown setting beside every setting."""
    data = complete(DepotConfig, base())
    DepotConfig.model_validate(data)
    out = []
    for path, model in settings(DepotConfig, data):
        out += [put(data, path, wrong) for wrong in WRONG_VALUES]
        field = model.model_fields.get(path[-1])
        if field is not None and field.is_required() and path[-1] in _at(data, path[:-1]):
            out.append(drop(data, path))
        out.append(put(data, (*path[:-1], "colour"), 1))
    return out


def all_errors() -> list[dict]:
    errors = []
    for data in variants():
        try:
            DepotConfig.model_validate(data)
        except ValidationError as exc:
            errors += exc.errors()
    return errors


@pytest.fixture(scope="module")
def errors() -> list[dict]:
    return all_errors()


def test_the_table_covers_every_error_type_the_depot_model_gives(errors):
    kinds = {e["type"] for e in errors}
    # The driver reaches the kinds of mistake people make (else this test proves nothing).
    assert {"missing", "extra_forbidden", "int_parsing", "int_from_float", "float_parsing",
            "greater_than_equal", "greater_than", "less_than_equal", "literal_error", "dict_type",
            "list_type", "string_type", "string_too_short", "string_too_long",
            "string_pattern_mismatch", "bool_parsing", "too_short", "value_error",
            "union_tag_invalid", "model_type"} <= kinds, kinds
    assert sorted(k for k in kinds if not is_known(k)) == []


def test_every_translated_message_is_chinese(errors):
    bad = sorted({(e["type"], translate(e)) for e in errors
                  if not CJK.search(translate(e)) or ENGLISH.search(translate(e))})
    assert bad == []


def test_the_loader_speaks_chinese_for_every_variant():
    # Through the whole loader (YAML text, lines, union folding, suggestions, cross checks).
    english = []
    for data in variants()[::41]:  # a spread of them (~30): the loader on all of them takes long
        text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
        try:
            parse_depot_config(text, "depot.yaml", read_files=lambda _p: [])
        except ConfigErrors as exc:
            english += [str(p) for p in exc.errors if not CJK.search(p.message) or ENGLISH.search(p.message)]
    assert english == []


def test_values_and_choices_are_shown_as_the_file_writes_them():
    assert show_value(True) == "true" and show_value(None) == "null"
    assert show_value("X") == "'X'" and show_value(230400) == "230400" and show_value(0.0) == "0"
    err = {"type": "literal_error", "loc": ("parity",), "input": "X", "ctx": {"expected": "'N', 'E' or 'O'"}}
    assert translate(err) == "须为 'N'、'E' 或 'O'（实际为 'X'）"
    err = {"type": "less_than_equal", "loc": ("baud",), "input": 230400, "ctx": {"le": 115200}}
    assert translate(err) == "须小于或等于 115200（实际为 230400）"


def test_an_unknown_type_still_gets_chinese_that_names_it():
    text = translate({"type": "brand_new_check", "loc": ("x",), "input": 3, "msg": "Input should be new"})
    assert text.startswith(FALLBACK.format(type="brand_new_check")) and "brand_new_check" in text
    assert CJK.search(text) and "Input should" not in text
    # A template whose ctx is not there falls back rather than raising.
    assert "greater_than" in translate({"type": "greater_than", "loc": (), "input": 1})
    assert set(TEMPLATES) >= {"missing", "int_parsing", "greater_than_equal", "less_than_equal",
                              "literal_error", "dict_type", "string_type", "extra_forbidden"}


def _problems(data: dict) -> list[str]:
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    with pytest.raises(ConfigErrors) as exc:
        parse_depot_config(text, "depot.yaml", read_files=lambda _p: [])
    return [f"{p.setting}: {p.message}" for p in exc.value.errors]


def test_a_union_setting_gets_one_message_and_a_bus_kind_its_own_setting():
    data = base()
    assert _problems(put(data, ("profiles",), 5)) == ["profiles: 须为映射、列表或文字（实际为 5）"]
    assert _problems(put(data, ("profiles",), {"umt8": 5})) == ["profiles.umt8: 须为映射，每行写 设置: 值（实际为 5）"]
    assert _problems(put(data, ("buses", 0, "kind"), "usb")) == ["buses[0].kind: 须为 'serial' 或 'tcp'（实际为 'usb'）"]
    assert _problems(drop(data, ("buses", 0, "kind"))) == ["buses[0].kind: 缺少必填设置"]
    assert union_message([{"type": "int_type", "input": "a"}, {"type": "float_type", "input": "a"}]) \
        == "须为整数或数字（实际为 'a'）"


def test_a_misspelt_setting_is_answered_with_the_right_one():
    data = base()
    bad = drop(put(data, ("schedules", "air_intervall"), "1h"), ("schedules", "air_interval"))
    assert _problems(bad) == ["schedules.air_intervall: 未知设置：是否想写 'air_interval'？"]


@pytest.mark.parametrize("text", [
    "a: [1, 2\nb: 3\n",          # flow sequence not closed
    "a: {x: 1\nb: 2\n",           # flow mapping not closed
    "a: 1\n b: 2\n",              # bad indentation
    "a: 'open\n",                 # quote not closed
    "a:\n\t- 1\n",                # a tab
    "a: *nowhere\n",              # undefined alias
    "a: b: c\n",                  # colon in a plain value
])
def test_yaml_syntax_errors_are_chinese(text):
    with pytest.raises(ConfigErrors) as exc:
        parse_depot_config(text, "depot.yaml")
    [problem] = exc.value.errors
    assert problem.message.startswith("不是有效的 YAML：")
    # What is left in English would be a phrase the table does not know yet.
    leftover = re.sub(r"'[^']*'|\"[^\"]*\"|<[^>]*>|YAML|Tab", "", problem.message)
    assert not re.search(r"[A-Za-z]{3,}", leftover), problem.message
    assert yaml_reason(None, "") == ""


def test_an_unknown_setting_that_looks_like_a_type_name_is_still_named():
    data = base()
    assert _problems(put(data, ("broker", "list[str]"), 1)) == ["broker.list[str]: 未知设置"]
