"""Checks on the base64 JPEG carried by `grainlink.snapshot/1`."""

from __future__ import annotations

import binascii

_JPEG_START = b"\xff\xd8\xff"


def check_jpeg_b64(text: str, max_bytes: int) -> bytes:
    """Decode strict base64 and check it is a JPEG of at most `max_bytes`; return the bytes."""
    try:
        data = binascii.a2b_base64(text.encode("ascii"), strict_mode=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise ValueError("not valid base64 (standard alphabet, with padding)") from None
    if len(data) > max_bytes:
        raise ValueError(f"JPEG is {len(data)} bytes, over the limit of {max_bytes}")
    if not data.startswith(_JPEG_START):
        raise ValueError("decoded data is not a JPEG (no FF D8 FF start marker)")
    return data
