"""Modbus frames, master side, as pure functions: the requests the edge sends (read holding or
input registers, FC 3/4; write one register, FC 6) as RTU ADUs (CRC-16) and Modbus TCP ADUs
(MBAP header), and the checks every reply passes before a register of it is believed.

No I/O here: the transports (`serial_line`, `tcp_line`) move bytes and use `rtu_needed` /
`mbap_needed` to know when a reply is complete; `BusLink` turns a `FrameError` into a
`ReadFailure`. Kinds are the link's failure kinds: "crc", "partial" (short, or not the answer
to the request: wrong slave, function, byte count, transaction) and "exception".
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from protocols.modbus.crc import crc_ok, with_crc

READ_HOLDING, READ_INPUT, WRITE_SINGLE = 3, 4, 6
MAX_READ = 125  # registers one read may ask for (the byte count field holds 250 at most)
EXCEPTION_BIT = 0x80
RTU_EXCEPTION_BYTES = 5  # address, function | 0x80, code, CRC (2)
MBAP_HEADER_BYTES = 7  # transaction (2), protocol (2), length (2), unit (1)


class FrameError(Exception):
    """A reply that is not a valid answer to its request; `kind` says how it failed."""

    def __init__(self, kind: str, detail: str, code: int | None = None):
        self.kind = kind
        self.detail = detail
        self.code = code  # the exception code of an exception reply
        super().__init__(detail)


@dataclass(frozen=True)
class Request:
    """One request to `unit`: FC 3/4 read `value` registers from `register`, or FC 6 write
    `value` to `register`."""

    unit: int
    function: int
    register: int
    value: int

    def __post_init__(self) -> None:
        if self.function not in (READ_HOLDING, READ_INPUT, WRITE_SINGLE):
            raise ValueError(f"function {self.function} is not 3, 4 or 6")
        if not 0 <= self.unit <= 255:
            raise ValueError(f"unit {self.unit} is not 0-255")
        if not 0 <= self.register <= 0xFFFF or not 0 <= self.value <= 0xFFFF:
            raise ValueError("register and value are 16-bit")
        if self.is_read and not 1 <= self.value <= MAX_READ:
            raise ValueError(f"a read asks for 1-{MAX_READ} registers, not {self.value}")

    @property
    def is_read(self) -> bool:
        return self.function != WRITE_SINGLE

    def pdu(self) -> bytes:
        return struct.pack(">BHH", self.function, self.register, self.value)

    def reply_pdu_bytes(self) -> int:
        """Length of the normal reply's PDU: function, byte count, registers; or the FC 6 echo."""
        return 2 + 2 * self.value if self.is_read else 5


def read_request(unit: int, function: int, start: int, count: int) -> Request:
    if function not in (READ_HOLDING, READ_INPUT):
        raise ValueError(f"function {function} is not a register read (3 or 4)")
    return Request(unit, function, start, count)


def write_request(unit: int, register: int, value: int) -> Request:
    return Request(unit, WRITE_SINGLE, register, value)


# --- the PDU, common to RTU and TCP ---------------------------------------------------------

def decode_reply_pdu(request: Request, pdu: bytes) -> list[int]:
    """The registers a reply PDU carries (the written value for FC 6); raises FrameError."""
    if not pdu:
        raise FrameError("partial", "应答为空")
    function = pdu[0]
    if function == request.function | EXCEPTION_BIT:
        if len(pdu) < 2:
            raise FrameError("partial", "异常应答不完整")
        code = pdu[1]
        raise FrameError("exception", f"异常应答，异常码 {code}", code=code)
    if function != request.function:
        raise FrameError("partial", f"应答功能码 {function}，请求的是 {request.function}")
    if not request.is_read:
        if pdu != request.pdu():
            raise FrameError("partial", "写寄存器的应答与请求不一致")
        return [request.value]
    if len(pdu) < 2:
        raise FrameError("partial", "应答缺少字节数")
    byte_count = pdu[1]
    if byte_count != 2 * request.value:
        raise FrameError("partial", f"请求 {request.value} 个寄存器，应答字节数为 {byte_count}")
    if len(pdu) != 2 + byte_count:
        raise FrameError("partial", f"应答应有 {byte_count} 个数据字节，实际 {len(pdu) - 2} 个")
    return list(struct.unpack(f">{request.value}H", pdu[2:]))


# --- RTU: address + PDU + CRC-16 -------------------------------------------------------------

def rtu_frame(request: Request) -> bytes:
    return with_crc(bytes((request.unit,)) + request.pdu())


def rtu_reply_bytes(request: Request) -> int:
    """Length of the normal RTU reply to `request`."""
    return 1 + request.reply_pdu_bytes() + 2


def rtu_needed(request: Request, head: bytes) -> int:
    """How many bytes the reply beginning with `head` has in all, judged by its own header
    where it has one (an exception reply is 5 bytes; a read says its byte count) and by the
    request otherwise: a transport stops reading once it has them."""
    if len(head) >= 2 and head[1] & EXCEPTION_BIT:
        return RTU_EXCEPTION_BYTES
    if request.is_read and len(head) >= 3 and head[1] == request.function:
        return 5 + head[2]
    return rtu_reply_bytes(request)


def decode_rtu_reply(request: Request, frame: bytes) -> list[int]:
    """The registers of an RTU reply frame; raises FrameError (timeout is the caller's: no bytes)."""
    expected = rtu_needed(request, frame)
    if len(frame) < expected:
        raise FrameError("partial", f"应答不完整：收到 {len(frame)} 字节，应为 {expected} 字节")
    frame = frame[:expected]
    if not crc_ok(frame):
        raise FrameError("crc", "应答 CRC 校验错误")
    if frame[0] != request.unit:
        raise FrameError("partial", f"应答来自分机 {frame[0]}，请求的是分机 {request.unit}")
    return decode_reply_pdu(request, frame[1:-2])


# --- TCP: MBAP header + PDU ------------------------------------------------------------------

def mbap_frame(request: Request, transaction: int) -> bytes:
    pdu = request.pdu()
    return struct.pack(">HHHB", transaction & 0xFFFF, 0, len(pdu) + 1, request.unit) + pdu


def mbap_needed(head: bytes) -> int | None:
    """Total length of the ADU beginning with `head` (None until its length field is in)."""
    if len(head) < 6:
        return None
    return 6 + struct.unpack(">H", head[4:6])[0]


def mbap_transaction(frame: bytes) -> int | None:
    return struct.unpack(">H", frame[:2])[0] if len(frame) >= 2 else None


def decode_mbap_reply(request: Request, transaction: int, frame: bytes) -> list[int]:
    """The registers of a Modbus TCP reply ADU; raises FrameError."""
    if len(frame) < MBAP_HEADER_BYTES + 1:
        raise FrameError("partial", f"应答不完整：收到 {len(frame)} 字节")
    tid, protocol, length, unit = struct.unpack(">HHHB", frame[:MBAP_HEADER_BYTES])
    if tid != transaction & 0xFFFF:
        raise FrameError("partial", f"应答事务号 {tid}，请求的是 {transaction & 0xFFFF}")
    if protocol != 0:
        raise FrameError("partial", f"应答协议号 {protocol}，不是 Modbus（0）")
    if length < 2 or len(frame) != 6 + length:
        raise FrameError("partial", f"应答长度字段 {length} 与收到的 {len(frame) - 6} 字节不符")
    if unit != request.unit:
        raise FrameError("partial", f"应答来自单元 {unit}，请求的是单元 {request.unit}")
    return decode_reply_pdu(request, frame[MBAP_HEADER_BYTES:])
