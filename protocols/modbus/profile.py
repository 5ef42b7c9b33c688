"""A register profile: where a sub-unit keeps what, and how to read it (contract
`modbus-lst1812.md`, "Vendor profiles"). Every vendor is a profile, written in
configuration, so a new sub-unit needs no code."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Register = int  # 0 … 65535
U16 = Field(ge=0, le=0xFFFF)


class ProfileError(ValueError):
    """A profile that cannot be used; the message names the profile and the field."""


class RegisterProfile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=64)
    kind: Literal["cable_unit", "thrh"] = "cable_unit"
    function_code: Literal[3, 4] = 3
    max_read: int = Field(125, ge=1, le=125)

    # temperature block: cable c (0-based), sensor s (0 = top) at temp_base + c·stride + s
    temp_base: int | None = Field(None, ge=0, le=0xFFFF)
    stride: int | None = Field(None, ge=1, le=32)
    stride_register: int | None = Field(None, ge=0, le=0xFFFF)
    cable_count: int | None = Field(None, ge=0, le=256)
    cable_count_register: int | None = Field(None, ge=0, le=0xFFFF)
    sensors_register_base: int | None = Field(None, ge=0, le=0xFFFF)
    sensors_per_cable: int | None = Field(None, ge=0, le=32)
    # One register holding the sensor count of every cable (controllers that publish one count).
    sensors_per_cable_register: int | None = Field(None, ge=0, le=0xFFFF)
    max_cables: int = Field(64, ge=1, le=256)

    # value coding
    scale: float = Field(0.1, gt=0)
    signed: bool = True
    sentinel_absent: int | None = Field(0x7FFF, ge=0, le=0xFFFF)
    sentinel_fault: tuple[int, ...] = (0x8000,)
    sentinel_not_ready: int | None = Field(0x7FFE, ge=0, le=0xFFFF)
    valid_min_c: float = -40.0
    valid_max_c: float = 85.0
    # DS18B20 power-on value: exactly this, right after a reading more than `jump` lower
    power_on_c: float | None = 85.0
    power_on_jump_c: float = 10.0

    # header (any may be absent on a vendor's unit)
    version_register: int | None = Field(None, ge=0, le=0xFFFF)
    status_register: int | None = Field(None, ge=0, le=0xFFFF)
    scan_counter_register: int | None = Field(None, ge=0, le=0xFFFF)
    scan_age_register: int | None = Field(None, ge=0, le=0xFFFF)
    command_register: int | None = Field(None, ge=0, le=0xFFFF)

    # air sensors on the unit (仓温/仓湿, 气温/气湿)
    indoor_temp_register: int | None = Field(None, ge=0, le=0xFFFF)
    indoor_rh_register: int | None = Field(None, ge=0, le=0xFFFF)
    outdoor_temp_register: int | None = Field(None, ge=0, le=0xFFFF)
    outdoor_rh_register: int | None = Field(None, ge=0, le=0xFFFF)
    air_temp_scale: float = Field(0.1, gt=0)
    air_rh_scale: float = Field(0.1, gt=0)

    # T/RH transmitter (kind thrh)
    rh_register: int | None = Field(None, ge=0, le=0xFFFF)
    temp_register: int | None = Field(None, ge=0, le=0xFFFF)

    @field_validator("sentinel_fault", mode="before")
    @classmethod
    def _fault_codes(cls, value):
        # Integrators copy error codes from vendor manuals as one number, often signed (-1).
        codes = [value] if isinstance(value, int) else value
        if isinstance(codes, list | tuple):
            return tuple(c + 0x10000 if isinstance(c, int) and -0x8000 <= c < 0 else c for c in codes)
        return value

    @field_validator("sentinel_absent", "sentinel_not_ready", mode="before")
    @classmethod
    def _signed_code(cls, value):
        return value + 0x10000 if isinstance(value, int) and -0x8000 <= value < 0 else value

    @model_validator(mode="after")
    def _complete(self) -> RegisterProfile:
        if any(not 0 <= v <= 0xFFFF for v in self.sentinel_fault):
            raise ValueError("sentinel_fault：每个值须在 0 … 65535（或 -32768 … -1）之间")
        if self.kind == "thrh":
            if self.rh_register is None or self.temp_register is None:
                raise ValueError("thrh（温湿度变送器）配置须写 rh_register 和 temp_register")
            return self
        if self.temp_base is None:
            raise ValueError("temp_base：cable_unit（测温分机）配置须写温度寄存器块的起始地址")
        if (self.stride is None) == (self.stride_register is None):
            raise ValueError("stride（固定值）和 stride_register 须写且只写一个")
        if (self.cable_count is None) == (self.cable_count_register is None):
            raise ValueError("cable_count（固定值）和 cable_count_register 须写且只写一个")
        given = [n for n in ("sensors_register_base", "sensors_per_cable", "sensors_per_cable_register")
                 if getattr(self, n) is not None]
        if len(given) > 1:
            raise ValueError("sensors_register_base、sensors_per_cable、sensors_per_cable_register "
                             f"最多只能写一个（写了 {'、'.join(given)}）")
        if self.valid_min_c >= self.valid_max_c:
            raise ValueError("valid_min_c 须小于 valid_max_c")
        return self

    def header_registers(self) -> list[int]:
        """The registers a scan reads every time: status, layout, scan counter/age, air."""
        candidates = (
            self.version_register, self.status_register, self.cable_count_register,
            self.stride_register, self.scan_counter_register, self.scan_age_register,
            self.indoor_temp_register, self.indoor_rh_register,
            self.outdoor_temp_register, self.outdoor_rh_register,
        )
        return [a for a in candidates if a is not None]

    def layout_addresses(self, cable_count: int) -> list[int]:
        """The registers that say how many sensors each of the first `cable_count` cables has."""
        if self.sensors_per_cable_register is not None:
            return [self.sensors_per_cable_register]
        if self.sensors_register_base is None:
            return []
        n = min(cable_count, self.max_cables)
        return list(range(self.sensors_register_base, self.sensors_register_base + n))

    def temp_address(self, cable: int, sensor: int, stride: int) -> int:
        """Address of wire cable `cable` (1-based) sensor `sensor` (0-based, 0 = top)."""
        return self.temp_base + (cable - 1) * stride + sensor
