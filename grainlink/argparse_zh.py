"""argparse's own words ("usage:", "the following arguments are required") in Chinese.

argparse looks its texts up through `gettext` at the moment it prints them, by the module-level
names `_` and `ngettext`; pointing those at this table puts every `grainlink` help page and
usage error in Chinese without a compiled catalog. A text this table does not know (another
Python version's wording) is printed as argparse wrote it.
"""

from __future__ import annotations

import argparse

TEXTS: dict[str, str] = {
    "usage: ": "用法：",
    "positional arguments": "位置参数",
    "options": "选项",
    "optional arguments": "选项",
    "show this help message and exit": "显示本帮助并退出",
    "%(prog)s: error: %(message)s\n": "%(prog)s：错误：%(message)s\n",
    "the following arguments are required: %s": "缺少必需的参数：%s",
    "argument %(argument_name)s: %(message)s": "参数 %(argument_name)s：%(message)s",
    "unrecognized arguments: %s": "无法识别的参数：%s",
    "invalid choice: %(value)r (choose from %(choices)s)": "无效的选择：%(value)r（可选：%(choices)s）",
    "invalid %(type)s value: %(value)r": "无效的 %(type)s 值：%(value)r",
    "expected one argument": "需要一个值",
    "expected at most one argument": "最多一个值",
    "expected at least one argument": "至少一个值",
    "not allowed with argument %s": "不能与参数 %s 同用",
    "one of the arguments %s is required": "参数 %s 须给出其中一个",
    "ambiguous option: %(option)s could match %(matches)s": "有歧义的选项：%(option)s 可能是 %(matches)s",
    "unexpected option string: %s": "意外的选项：%s",
    "ignored explicit argument %r": "忽略了多余的值 %r",
    "can't open '%(filename)s': %(error)s": "打不开 '%(filename)s'：%(error)s",
    "unknown parser %(parser_name)r (choices: %(choices)s)": "未知的子命令 %(parser_name)r（可选：%(choices)s）",
}

PLURALS: dict[str, str] = {
    "expected %s argument": "需要 %s 个值",
    "conflicting option string: %s": "选项冲突：%s",
}


def gettext(text: str) -> str:
    return TEXTS.get(text, text)


def ngettext(singular: str, plural: str, n: int) -> str:
    if singular in PLURALS:
        return PLURALS[singular]
    return singular if n == 1 else plural


def install() -> None:
    """Point argparse at the Chinese texts (for this process: the `grainlink` command)."""
    argparse._ = gettext
    argparse.ngettext = ngettext
