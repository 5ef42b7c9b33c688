"""YAML text → plain data plus a way back from a setting path to its line in the file."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml

from protocols.yaml_zh import yaml_reason

PathPart = str | int


@dataclass
class YamlProblem:
    line: int | None
    setting: str
    message: str


@dataclass
class YamlDocument:
    data: Any
    root: yaml.Node | None
    problems: list[YamlProblem] = field(default_factory=list)

    def locate(self, path: Sequence[PathPart]) -> tuple[int | None, str]:
        """(1-based line, dotted setting) of the deepest node of `path` present in the file.

        Parts that do not exist in the file are skipped while walking (pydantic puts union
        tags such as `serial` into its error locations) but the last part is kept in the
        setting name, since it is usually a missing or unknown key.
        """
        node = self.root
        line = node.start_mark.line + 1 if node is not None else None
        shown: list[PathPart] = []
        for i, part in enumerate(path):
            child = _child(node, part)
            if child is None:
                if i == len(path) - 1:
                    shown.append(part)
                continue
            key_node, node = child
            shown.append(part)
            line = (key_node or node).start_mark.line + 1
        return line, format_setting(shown)


def format_setting(path: Sequence[PathPart]) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(file)"


def _child(node: yaml.Node | None, part: PathPart) -> tuple[yaml.Node | None, yaml.Node] | None:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode) and key.value == str(part):
                return key, value
    elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
        return None, node.value[part]
    return None


def load_yaml(text: str) -> YamlDocument:
    """Parse `text`; syntax errors and duplicate keys become problems, never exceptions."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        reason = yaml_reason(exc.context, exc.problem)
        return YamlDocument(None, None, [YamlProblem(line, "(file)", f"不是有效的 YAML：{reason}")])
    except yaml.YAMLError as exc:
        return YamlDocument(None, None, [YamlProblem(None, "(file)", f"不是有效的 YAML：{yaml_reason(str(exc))}")])
    doc = YamlDocument(data, root)
    _find_duplicate_keys(root, [], doc.problems)
    return doc


def _find_duplicate_keys(node: yaml.Node | None, path: list[PathPart], out: list[YamlProblem]) -> None:
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key, value in node.value:
            name = key.value if isinstance(key, yaml.ScalarNode) else str(key)
            line = key.start_mark.line + 1
            if name in seen:
                out.append(YamlProblem(
                    line, format_setting([*path, name]),
                    f"设置写了两次（第一次在第 {seen[name]} 行）；同一设置只能写一次",
                ))
            else:
                seen[name] = line
            _find_duplicate_keys(value, [*path, name], out)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _find_duplicate_keys(item, [*path, i], out)
