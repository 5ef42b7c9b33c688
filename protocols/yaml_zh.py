"""PyYAML's syntax-error texts in Chinese, for the depot file and vendor profile files.

PyYAML words its problems in English from a small fixed set; each known phrase is replaced by
its Chinese, and the quoted characters it found stay as they are. A phrase not in the table is
kept as PyYAML wrote it (it still names the problem) behind the Chinese lead-in of the caller.
"""

from __future__ import annotations

import re

# (English phrase as a regex, Chinese); the groups are the characters PyYAML quotes.
PHRASES: list[tuple[str, str]] = [
    (r"while parsing a flow sequence", "解析方括号列表 [...] 时"),
    (r"while parsing a flow mapping", "解析花括号映射 {...} 时"),
    (r"while parsing a block mapping", "解析映射时"),
    (r"while parsing a block collection", "解析列表时"),
    (r"while parsing a flow node", "解析取值时"),
    (r"while parsing a block node", "解析取值时"),
    (r"while scanning a simple key", "读取设置名时"),
    (r"while scanning a quoted scalar", "读取引号中的文字时"),
    (r"while scanning a block scalar", "读取多行文字时"),
    (r"while scanning an? (anchor|alias)", "读取锚点或别名时"),
    (r"while scanning a directive", "读取指令时"),
    (r"while scanning for the next token", "读取下一项时"),
    (r"expected ',' or '\]', but got (\S+)", r"应为 ',' 或 ']'，却遇到 \1"),
    (r"expected ',' or '\}', but got (\S+)", r"应为 ',' 或 '}'，却遇到 \1"),
    (r"expected <block end>, but found (\S+)", r"缩进不对：这里不该出现 \1"),
    (r"expected a single document in the stream", "文件里只能有一个文档（多了 ---）"),
    (r"could not find expected ':'", "找不到应有的 ':'"),
    (r"mapping values are not allowed here", "这里不能写 ':'（缩进不对，或值里的冒号要加引号）"),
    (r"found character '\\t' that cannot start any token", "出现了制表符（Tab）：YAML 缩进只能用空格"),
    (r"found character (\S+) that cannot start any token", r"字符 \1 不能出现在这里"),
    (r"found unexpected end of stream", "文件意外结束（引号没有闭合？）"),
    (r"found unknown escape character (\S+)", r"未知的转义字符 \1"),
    (r"found undefined alias (\S+)", r"别名 \1 未定义"),
    (r"found duplicate anchor (\S+)", r"锚点 \1 重复"),
    (r"found a tab character that violates indentation", "出现了制表符（Tab）：YAML 缩进只能用空格"),
    (r"found a tab character where an indentation space is expected", "出现了制表符（Tab）：YAML 缩进只能用空格"),
    (r"did not find expected key", "找不到应有的设置名"),
    (r"did not find expected node content", "找不到应有的取值"),
    (r"did not find expected '-' indicator", "找不到应有的 '-'"),
    (r"first occurrence", "第一次出现处"),
    (r"second occurrence", "第二次出现处"),
]

_COMPILED = [(re.compile(pattern), chinese) for pattern, chinese in PHRASES]


def yaml_reason(*parts: str | None) -> str:
    """PyYAML's context and problem texts, each translated, joined with "，"."""
    return "，".join(_translate(p) for p in parts if p)


def _translate(text: str) -> str:
    for pattern, chinese in _COMPILED:
        text = pattern.sub(chinese, text)
    return text
