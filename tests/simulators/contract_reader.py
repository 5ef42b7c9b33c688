"""A reader of the `lst1812` profile written only from contracts/modbus-lst1812.md, so the
simulator is checked against the contract and not against our own codec."""

from __future__ import annotations

ABSENT, FAULT, NOT_READY = 0x7FFF, 0x8000, 0x7FFE


def s16(raw: int) -> int:
    return raw - 0x10000 if raw & 0x8000 else raw


def read_block(read, start: int, count: int) -> dict[int, int]:
    """`read(address, count) -> list[int]` in pieces of at most 125 registers."""
    regs: dict[int, int] = {}
    while count > 0:
        n = min(125, count)
        for i, v in enumerate(read(start, n)):
            regs[start + i] = v
        start, count = start + n, count - n
    return regs


def read_lst1812(read) -> dict:
    head = read_block(read, 0, 16)
    cable_count, stride = head[2], head[3]
    regs = dict(head)
    regs.update(read_block(read, 16, cable_count))
    regs.update(read_block(read, 100, cable_count * stride))
    cables = {}
    for c in range(cable_count):
        present = regs[16 + c]
        temps = []
        for s in range(present):
            raw = regs[100 + c * stride + s]
            if raw in (ABSENT, FAULT, NOT_READY):
                temps.append(None)
                continue
            value = s16(raw) / 10
            temps.append(value if -40.0 <= value < 85.0 else None)
        cables[c + 1] = temps

    def air(reg_t, reg_rh):
        t, rh = regs[reg_t], regs[reg_rh]
        return None if t in (ABSENT, FAULT) else (s16(t) / 10, rh / 10)

    return {
        "version": head[0], "status": head[1], "cable_count": cable_count, "stride": stride,
        "scan_counter": head[4], "scan_age_s": head[5], "command": head[6],
        "indoor": air(8, 9), "outdoor": air(10, 11), "cables": cables, "raw": regs,
    }
