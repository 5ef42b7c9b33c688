"""Checks on the base64 JPEG carried by `grainlink.snapshot/1`."""

from __future__ import annotations

import binascii

_JPEG_START = b"\xff\xd8\xff"


def check_jpeg_b64(text: str, max_bytes: int) -> bytes:
    """Decode strict base64 and check it is a JPEG of at most `max_bytes`; return the bytes."""
    try:
        data = binascii.a2b_base64(text.encode("ascii"), strict_mode=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise ValueError("不是有效的 base64（须用标准字母表并带填充）") from None
    if len(data) > max_bytes:
        raise ValueError(f"JPEG 有 {len(data)} 字节，超过上限 {max_bytes} 字节")
    if not data.startswith(_JPEG_START):
        raise ValueError("解码后的数据不是 JPEG（没有 FF D8 FF 起始标记）")
    return data
