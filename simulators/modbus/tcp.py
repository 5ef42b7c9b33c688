"""Modbus TCP slaves: a pymodbus `ModbusTcpServer` whose datastore is our devices.

pymodbus 3.16 serves a `ModbusServerContext` flagged as the old simulator through its
`async_getValues`/`async_setValues`; we subclass it so every request reaches a `Device`
(the model behind it) and the bus's fault gate (silent slave, exception replies).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket

from pymodbus.constants import ExcCodes
from pymodbus.datastore import ModbusServerContext
from pymodbus.exceptions import NoSuchIdException
from pymodbus.server import ModbusTcpServer

from simulators.modbus.device import Device, FaultGate

_WRITE_FUNCTIONS = (6, 16)


def _exc(code: int) -> ExcCodes | int:
    try:
        return ExcCodes(code)
    except ValueError:
        return ExcCodes.DEVICE_FAILURE


class DeviceContext(ModbusServerContext):
    """Routes pymodbus datastore calls to our devices by unit id."""

    def __init__(self, devices: dict[int, Device], gate: FaultGate | None):
        # Deliberately not calling super().__init__: it wants pymodbus datastores.
        self._by_address = devices
        self.gate = gate
        self.simdevices = []
        self.old_simulator = True
        self._decided: dict[int, tuple[str, int] | None] = {}
        self._written: dict[int, list[int]] = {}

    def device_ids(self):
        return list(self._by_address)

    def _device(self, device_id: int, func_code: int, setting: bool) -> Device:
        device = self._by_address.get(device_id)
        if device is None:
            raise NoSuchIdException(f"no unit {device_id}")
        if func_code in _WRITE_FUNCTIONS and not setting:
            # The read-back after a write belongs to the same request: no new decision.
            fault = self._decided.pop(device_id, None)
        else:
            fault = self.gate.decide(device_id) if self.gate is not None else None
            if func_code in _WRITE_FUNCTIONS:
                self._decided[device_id] = fault
        if fault is not None and fault[0] == "silent":
            # ignore_missing_devices makes the server answer nothing: a gateway that times out
            raise NoSuchIdException(f"unit {device_id} is silent")
        if fault is not None and fault[0] == "exception":
            raise _Refused(fault[1])
        return device

    async def async_getValues(self, device_id, func_code, address, count=1):
        try:
            device = self._device(device_id, func_code, setting=False)
        except _Refused as refused:
            return _exc(refused.code)
        if func_code in _WRITE_FUNCTIONS:
            # A write is answered with an echo of what was written, not a read-back.
            return self._written.pop(device_id, [0] * count)[:count]
        result = device.read(func_code, address, count)
        return _exc(result) if isinstance(result, int) else result

    async def async_setValues(self, device_id, func_code, address, values):
        try:
            device = self._device(device_id, func_code, setting=True)
        except _Refused as refused:
            return _exc(refused.code)
        code = device.write(address, list(values))
        if code:
            return _exc(code)
        self._written[device_id] = list(values)
        return None


class _Refused(Exception):
    def __init__(self, code: int):
        super().__init__(code)
        self.code = code


class TcpSlaves:
    """A running Modbus TCP server for several unit ids."""

    def __init__(self, devices: dict[int, Device], host: str = "127.0.0.1", port: int = 0,
                 gate: FaultGate | None = None, name: str = "tcp"):
        self.devices = devices
        self.host = host
        self.port = port or _free_port(host)
        self.gate = gate
        self.name = name
        self.server: ModbusTcpServer | None = None

    async def start(self) -> TcpSlaves:
        self.server = ModbusTcpServer(
            DeviceContext(self.devices, self.gate),
            address=(self.host, self.port),
            ignore_missing_devices=True,
        )
        await self.server.serve_forever(background=True)
        return self

    async def stop(self) -> None:
        if self.server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.server.shutdown(), 5)
            self.server = None


def _free_port(host: str) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]
