"""Time on the wire of Modbus RTU frames (contract "Timing at 9600 baud"): the physical limit a
poller is measured against, and what the simulators hold replies back by."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from protocols.modbus.profile import RegisterProfile

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


def minimal_scan_frames(profile: RegisterProfile, cable_count: int, stride: int) -> list[int]:
    """Register counts of the frames one unit scan cannot do without, from the profile alone
    (never from a poller's plan): the header span, then the whole temperature block
    (cable_count × stride, contiguous), each in frames of ≤ max_read registers."""
    frames: list[int] = []
    header = profile.header_registers() if profile.kind == "cable_unit" else \
        [profile.rh_register, profile.temp_register]
    if header:
        span = max(header) - min(header) + 1
        frames += [min(profile.max_read, span - k) for k in range(0, span, profile.max_read)]
    block = cable_count * stride if profile.kind == "cable_unit" else 0
    frames += [min(profile.max_read, block - k) for k in range(0, block, profile.max_read)]
    return frames


def minimal_scan_wire_time_s(profile: RegisterProfile, cable_count: int, stride: int, baud: int,
                             parity: str = "N", stop_bits: int = 1) -> float:
    """Wire time of `minimal_scan_frames`: the physical limit of one unit scan."""
    return sum(read_wire_time_s(n, baud, parity, stop_bits)
               for n in minimal_scan_frames(profile, cable_count, stride))
