"""The depot configuration (one YAML file per depot), as pydantic models.

Field-level rules live here; rules that relate one part of the file to another (a unit naming
an unknown granary, two units on one address) live in `checks.py`. Defaults are settings:
every number the agent uses can be changed in the file.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    model_validator,
)

from protocols.depot.durations import parse_duration
from protocols.mqtt.topics import valid_code
from protocols.pydantic_zh import show_value


def _check_code(value: str) -> str:
    if not valid_code(value):
        raise ValueError(
            f"{show_value(value)} 不是有效的代码：只能用 1-64 个 A-Z a-z 0-9 _ - 字符"
        )
    return value


def _int_to_str(value: Any) -> Any:
    # Region codes are digits; an unquoted 430000 in YAML arrives as an int.
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


Code = Annotated[str, AfterValidator(_check_code)]
Duration = Annotated[float, BeforeValidator(parse_duration)]
RegionCode = Annotated[str, BeforeValidator(_int_to_str), Field(pattern=r"^\d{6}$")]
Positive = Annotated[float, Field(gt=0)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Region(Strict):
    province: RegionCode
    city: RegionCode
    county: RegionCode


class DepotInfo(Strict):
    code: Code
    name: str = Field(min_length=1)
    region: Region
    timezone: str = "Asia/Shanghai"


# --- granaries and cables -----------------------------------------------------------------

class CableSpec(Strict):
    """One temperature cable of a granary: its number, grid place, position and layers."""

    cable: int = Field(ge=1)
    row: int = Field(ge=1)
    col: int = Field(ge=1)
    x_m: float = Field(ge=0)
    y_m: float = Field(ge=0)
    layers: int = Field(ge=1, le=64)


class CableGrid(Strict):
    """A regular grid of cables, numbered row by row from 1."""

    rows: int = Field(ge=1, le=100)
    cols: int = Field(ge=1, le=100)
    layers: int = Field(ge=1, le=64)
    x0_m: float = Field(default=0.5, ge=0)
    y0_m: float = Field(default=0.5, ge=0)
    dx_m: Positive = 5.0
    dy_m: Positive = 5.0

    def cables(self) -> list[CableSpec]:
        return [
            CableSpec(
                cable=r * self.cols + c + 1, row=r + 1, col=c + 1,
                x_m=round(self.x0_m + c * self.dx_m, 3), y_m=round(self.y0_m + r * self.dy_m, 3),
                layers=self.layers,
            )
            for r in range(self.rows)
            for c in range(self.cols)
        ]


GranaryType = Literal["flat", "squat_silo", "silo", "warehouse", "tank"]
StorageMode = Literal["normal", "quasi_low", "low"]


class Granary(Strict):
    code: Code
    name: str = Field(min_length=1, max_length=200)
    type: GranaryType
    length_m: Positive
    width_m: Positive
    grain_height_m: Positive
    capacity_t: Positive
    grain: str = Field(pattern=r"^[a-z][a-z0-9_]{0,31}$")
    storage_mode: StorageMode
    layer_depths_m: list[Annotated[float, Field(ge=0)]] = Field(min_length=1, max_length=64)
    cable_grid: CableGrid | None = None
    cables: list[CableSpec] | None = None
    scan_interval: Duration | None = None  # None: `schedules.scan_interval`

    @model_validator(mode="after")
    def _one_layout(self) -> Granary:
        if (self.cable_grid is None) == (self.cables is None):
            raise ValueError("电缆要么写成 `cable_grid`，要么写成 `cables` 列表，只能二选一")
        depths = self.layer_depths_m
        if any(b <= a for a, b in zip(depths, depths[1:], strict=False)):
            raise ValueError("layer_depths_m 须从顶层往下逐层增大")
        return self

    def cable_list(self) -> list[CableSpec]:
        """Every cable of the granary (the grid expanded), in cable-number order."""
        listed = self.cable_grid.cables() if self.cable_grid else list(self.cables or [])
        return sorted(listed, key=lambda c: c.cable)


# --- buses and units ----------------------------------------------------------------------

class CableBlock(Strict):
    """Wire cables `first_wire_cable … +count-1` of a unit feed granary cables from `first_cable`."""

    first_wire_cable: int = Field(default=1, ge=1)
    count: int = Field(ge=1)
    first_cable: int = Field(default=1, ge=1)

    def pairs(self) -> list[tuple[int, int]]:
        """(wire cable, granary cable) for every cable of the block."""
        return [(self.first_wire_cable + i, self.first_cable + i) for i in range(self.count)]


def _as_block_list(value: Any) -> Any:
    return [value] if isinstance(value, dict) else value


class Unit(Strict):
    """One slave on a bus: a cable sub-unit (`granary` + `cables`) or a T/RH transmitter (`air`)."""

    address: int = Field(ge=1, le=247)
    profile: str = Field(min_length=1)
    granary: Code | None = None
    cables: Annotated[list[CableBlock], BeforeValidator(_as_block_list)] | None = None
    air: Literal["indoor", "outdoor"] | None = None
    name: str | None = None
    # Trigger mode: write "start scan", wait (bounded) for scan_counter to move, then read.
    trigger_scan: bool = False
    trigger_timeout_s: Positive = 30.0
    trigger_poll_s: Positive = 0.5

    def wiring(self) -> list[tuple[int, int]]:
        """(wire cable, granary cable) pairs, in wire order."""
        return sorted(p for block in self.cables or [] for p in block.pairs())

    @property
    def label(self) -> str:
        return self.name or f"unit {self.address}"


class BusBase(Strict):
    name: Code
    timeout_s: Positive = 1.0
    retries: int = Field(default=1, ge=0, le=10)
    inter_request_delay_s: float = Field(default=0.0, ge=0, le=10)
    # A slave that stops answering is skipped for backoff_initial_s, doubling up to backoff_max_s,
    # then asked with one short probe: 45 s keeps a returning unit's wait under a minute.
    backoff_initial_s: Positive = 5.0
    backoff_max_s: Positive = 45.0
    units: list[Unit] = Field(default_factory=list)


class SerialBus(BusBase):
    kind: Literal["serial"]
    device: str = Field(min_length=1)
    baud: int = Field(default=9600, ge=1200, le=115200)
    parity: Literal["N", "E", "O"] = "N"
    stop_bits: Literal[1, 2] = 1


class TcpBus(BusBase):
    kind: Literal["tcp"]
    host: str = Field(min_length=1)
    port: int = Field(default=502, ge=1, le=65535)


Bus = Annotated[SerialBus | TcpBus, Field(discriminator="kind")]


class AirSource(Strict):
    """Indoor/outdoor air read from a cable unit's own air registers."""

    place: Literal["indoor", "outdoor"]
    granary: Code | None = None
    source: Literal["unit"] = "unit"
    bus: Code
    address: int = Field(ge=1, le=247)


class Camera(Strict):
    camera: Code
    granary: Code | None = None
    name: str = ""
    url: str | None = None
    username: str | None = None
    password_env: str | None = None
    password_file: str | None = None
    snapshot_interval: Duration | None = None
    # Media profile token of this camera / NVR channel; None = the device's first profile.
    profile: str | None = None
    health_interval: Duration = 60.0
    # A camera failing health checks this long is reported offline (camera_offline event).
    offline_after: Duration = 120.0
    timeout: Duration = 5.0
    # Write the T/RH overlay to the camera's OSD (else it is stamped on the stills).
    osd: bool = True


class LiveView(Strict):
    # Central's media server (nginx RTMP): the edge publishes a camera's stream to
    # <url>/<depot>_<camera> when central asks (cmd live_start); None: no live view.
    url: str | None = Field(default=None, pattern=r"^rtmps?://")
    # A depot's uplink is thin: more streams than this at once are refused.
    max_streams: int = Field(default=1, ge=1, le=16)
    # A stream ends by itself after this long unless central renews it.
    duration: Duration = Field(default=300.0, gt=0, le=3600)


# --- services -----------------------------------------------------------------------------

class Schedules(Strict):
    scan_interval: Duration = 3600.0
    air_interval: Duration = 600.0
    status_interval: Duration = 60.0
    housekeeping_interval: Duration = 3600.0


class Tls(Strict):
    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None

    @property
    def enabled(self) -> bool:
        return bool(self.ca_file or self.cert_file)


class Broker(Strict):
    url: str = Field(default="mqtt://127.0.0.1:1883", pattern=r"^mqtts?://[^/\s]+")
    username: str | None = None
    password_env: str | None = None
    password_file: str | None = None
    client_id: str | None = None  # None: "grainlink-edge-{depot}"
    tls: Tls = Tls()
    keepalive_s: int = Field(default=60, ge=5, le=3600)
    max_inflight: int = Field(default=20, ge=1, le=1000)
    reconnect_min_s: Positive = 1.0
    reconnect_max_s: Positive = 120.0
    max_payload_bytes: int = Field(default=256 * 1024, ge=1024, le=256 * 1024)

    @model_validator(mode="after")
    def _one_password_source(self) -> Broker:
        if self.password_env and self.password_file:
            raise ValueError("密码用 password_env 或 password_file 给出，只能二选一")
        return self


class Buffer(Strict):
    max_rows: int = Field(default=2_000_000, ge=1)
    max_age: Duration = 30 * 86400.0
    when_full: Literal["drop_oldest", "reject_new"] = "drop_oldest"
    history_days: float = Field(default=7, ge=0)


class Agent(Strict):
    """How the agent itself runs: clock check, metrics port, logs."""

    clock_check: Literal["ntp", "none"] = "ntp"
    # Unsynchronised clock: "hold" keeps scans back until the clock is synchronised (stamping
    # them then), "mark" stamps them anyway and reports the clock state in status.
    clock_policy: Literal["hold", "mark"] = "hold"
    clock_hold_max: Duration = 600.0
    metrics_host: str = "127.0.0.1"
    metrics_port: int = Field(default=9108, ge=0, le=65535)  # 0: no metrics server
    log_level: Literal["debug", "info", "warning", "error"] = "info"


class DepotConfig(Strict):
    depot: DepotInfo
    # Vendor register profiles: inline `{name: {settings}}`, or profile files / folders of them
    # beside the depot file (`[./umt8.yaml]`, `./profiles/`).
    profiles: dict[str, dict[str, Any]] | list[str] | str = Field(default_factory=dict)
    granaries: list[Granary] = Field(min_length=1)
    buses: list[Bus] = Field(default_factory=list)
    air: list[AirSource] = Field(default_factory=list)
    cameras: list[Camera] = Field(default_factory=list)
    live: LiveView = LiveView()
    schedules: Schedules = Schedules()
    broker: Broker = Broker()
    buffer: Buffer = Buffer()
    agent: Agent = Agent()
    state_dir: str = "./var/edge"
    simulation: dict[str, Any] | None = None

    # Vendor profiles parsed from `profiles:` (set by the loader).
    _vendor_profiles: dict[str, Any] = PrivateAttr(default_factory=dict)
    # name → the file that defined it (the depot file itself for inline profiles)
    _profile_sources: dict[str, str] = PrivateAttr(default_factory=dict)

    def granary(self, code: str) -> Granary:
        for g in self.granaries:
            if g.code == code:
                return g
        raise KeyError(code)

    def bus(self, name: str) -> SerialBus | TcpBus:
        for b in self.buses:
            if b.name == name:
                return b
        raise KeyError(name)

    def scan_interval_s(self, granary: Granary) -> float:
        return granary.scan_interval or self.schedules.scan_interval

    @property
    def vendor_profiles(self) -> dict[str, Any]:
        return dict(self._vendor_profiles)

    @property
    def profile_sources(self) -> dict[str, str]:
        return dict(self._profile_sources)

    def profile(self, name: str):
        """The register profile `name`: a built-in one or one from the `profiles:` section."""
        from protocols.modbus.profiles import get_profile

        return get_profile(name, extra=self._vendor_profiles)
