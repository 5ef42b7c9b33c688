"""Simulated Modbus slaves: TCP (pymodbus server) and RTU on a pseudo-terminal pair."""

from __future__ import annotations

from pathlib import Path

from simulators.modbus.device import Device, FaultGate, StaticDevice
from simulators.modbus.rtu_pty import LineSettings, RtuPtyServer
from simulators.modbus.tcp import TcpSlaves

__all__ = ["Device", "FaultGate", "LineSettings", "RtuPtyServer", "StaticDevice", "TcpSlaves",
           "start_rtu_pty_server", "start_tcp_server"]


async def start_tcp_server(devices: dict[int, Device], host: str = "127.0.0.1", port: int = 0,
                           gate: FaultGate | None = None) -> TcpSlaves:
    """Serve `devices` (unit id → Device) over Modbus TCP; port 0 picks a free one."""
    return await TcpSlaves(devices, host, port, gate).start()


async def start_rtu_pty_server(devices: dict[int, Device], baud: int = 9600, parity: str = "N",
                               stop_bits: int = 1, wire_time: bool = True,
                               gate: FaultGate | None = None,
                               link: str | Path | None = None) -> RtuPtyServer:
    """Serve `devices` (slave address → Device) on a new pty; `.path` is the end to open."""
    line = LineSettings(baud, parity, stop_bits, wire_time)
    return await RtuPtyServer(devices, line, gate, link).start()
