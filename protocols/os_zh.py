"""Why a file could not be read, in Chinese (the OS gives English: "No such file or directory")."""

from __future__ import annotations

import errno

REASONS: dict[int, str] = {
    errno.ENOENT: "文件不存在",
    errno.EACCES: "没有读取权限",
    errno.EPERM: "不允许访问",
    errno.EISDIR: "这是文件夹，不是文件",
    errno.ENOTDIR: "路径中有一段不是文件夹",
    errno.ELOOP: "符号链接循环",
    errno.ENAMETOOLONG: "路径太长",
    errno.EIO: "读写出错",
}


def os_reason(exc: BaseException) -> str:
    """A short Chinese reason for an OSError or a UnicodeDecodeError; other errno values keep
    the system's own text after a Chinese lead-in."""
    if isinstance(exc, UnicodeDecodeError):
        return f"不是 UTF-8 文本（{exc.reason}）"
    code = getattr(exc, "errno", None)
    if code is None:  # raised by our own code, already in Chinese
        return str(exc)
    if code in REASONS:
        return REASONS[code]
    return f"系统错误：{getattr(exc, 'strerror', None) or exc}"
