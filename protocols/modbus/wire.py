"""Time on the wire of Modbus RTU frames (contract "Timing at 9600 baud"): the physical limit a
poller is measured against, and what the simulators hold replies back by."""

from __future__ import annotations

REQUEST_BYTES = 8          # address, function, start (2), count (2), CRC (2)
REPLY_OVERHEAD_BYTES = 5   # address, function, byte count, CRC (2)
SILENT_CHARS = 3.5         # the inter-frame gap after each frame


def char_bits(parity: str = "N", stop_bits: int = 1) -> int:
    """Bits per character: start + 8 data + parity + stop (10 at 8N1, 11 with parity or 2 stops)."""
    if parity not in ("N", "E", "O"):
        raise ValueError(f"parity {parity!r} is not N, E or O")
    if stop_bits not in (1, 2):
        raise ValueError(f"stop_bits {stop_bits} is not 1 or 2")
    return 1 + 8 + (parity != "N") + stop_bits


def frame_time_s(n_bytes: int, baud: int, parity: str = "N", stop_bits: int = 1) -> float:
    """Time of `n_bytes` characters on the wire, without the silent interval."""
    return n_bytes * char_bits(parity, stop_bits) / baud


def silent_time_s(baud: int, parity: str = "N", stop_bits: int = 1) -> float:
    return SILENT_CHARS * char_bits(parity, stop_bits) / baud


def read_reply_bytes(count: int) -> int:
    return REPLY_OVERHEAD_BYTES + 2 * count


def read_wire_time_s(count: int, baud: int, parity: str = "N", stop_bits: int = 1) -> float:
    """One read of `count` registers: request, reply, and the silent interval after each."""
    chars = REQUEST_BYTES + read_reply_bytes(count)
    return frame_time_s(chars, baud, parity, stop_bits) + 2 * silent_time_s(baud, parity, stop_bits)
