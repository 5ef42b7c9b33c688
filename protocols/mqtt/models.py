"""Payload models of contract v1 (contracts/mqtt.md): strict, unknown keys rejected.

Construct them in Python with aware datetimes (any zone; stored as UTC) and plain numbers
(rounded to two decimals); decode wire bytes with `protocols.mqtt.codec.decode_message`.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal, get_args

from pydantic import (
    BaseModel,
    Field,
    JsonValue,
    SerializerFunctionWrapHandler,
    field_validator,
    model_serializer,
    model_validator,
)

from protocols.mqtt import fields as f
from protocols.mqtt.fields import (
    STRICT,
    Code,
    Count,
    FieldValueError,
    GrainVariety,
    Humidity,
    Metres,
    Name,
    PositiveMetres,
    RegionCode,
    Temperature,
    UtcDatetime,
    Uuid,
)
from protocols.mqtt.snapshot_data import check_jpeg_b64


def _schema_required_first(schema: dict[str, Any]) -> None:
    required = [name for name in schema.get("required", []) if name != "schema"]
    schema["required"] = ["schema", *required]


class Part(BaseModel):
    """A nested object of a message."""

    model_config = STRICT


class Message(BaseModel):
    """A whole payload; `schema` is written first and is required on the wire."""

    model_config = STRICT | {"json_schema_extra": _schema_required_first}
    SCHEMA_ID: ClassVar[str] = ""


def _schema_field(schema_id: str) -> Any:
    return Field(default=schema_id, alias="schema", description="payload schema and version")


# ---- grainlink.telemetry/1 -------------------------------------------------------------


class GrainScan(Part):
    """One scan of one cable: `temps_c[i]` is layer i+1 (1 = top); `faults` are 1-based layers."""

    ts: UtcDatetime
    granary: Code
    cable: int = Field(ge=1, le=f.MAX_CABLE)
    temps_c: list[Temperature | None] = Field(min_length=1, max_length=f.MAX_LAYERS)
    faults: list[int] = Field(max_length=f.MAX_LAYERS)
    # Optional so publishers that cannot read the unit's counter stay valid; left off the
    # wire when unknown, so receivers that predate the field still accept the message.
    scan_counter: int | None = Field(
        default=None, ge=0, le=f.MAX_SCAN_COUNTER,
        description="the unit's scan counter (register 4, wraps at 65535) for this scan")

    @model_serializer(mode="wrap")
    def _omit_unknown_counter(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data = handler(self)
        if data.get("scan_counter") is None:
            data.pop("scan_counter", None)
        return data

    @field_validator("faults")
    @classmethod
    def _faults_point_at_nulls(cls, faults: list[int], info) -> list[int]:
        temps = info.data.get("temps_c")
        seen: set[int] = set()
        for i, layer in enumerate(faults):
            if layer < 1:
                raise FieldValueError(f"[{i}]", f"层号 {layer} 须从 1 起算")
            if temps is not None and layer > len(temps):
                raise FieldValueError(
                    f"[{i}]", f"层号 {layer} 超出 temps_c 的 {len(temps)} 层"
                )
            if layer in seen:
                raise FieldValueError(f"[{i}]", f"层号 {layer} 列了两次")
            if temps is not None and temps[layer - 1] is not None:
                raise FieldValueError(
                    f"[{i}]", f"层号 {layer} 标为故障，但 temps_c[{layer - 1}] 有值（故障层须为 null）"
                )
            seen.add(layer)
        return faults


class AirReading(Part):
    """Air temperature/humidity: `indoor` of a granary, or `outdoor` (granary null)."""

    ts: UtcDatetime
    granary: Code | None
    place: Literal["indoor", "outdoor"]
    temp_c: Temperature | None
    rh_pct: Humidity | None

    @model_validator(mode="after")
    def _granary_matches_place(self) -> AirReading:
        if self.place == "indoor" and self.granary is None:
            raise FieldValueError("granary", "仓内（indoor）读数须写明仓房")
        if self.place == "outdoor" and self.granary is not None:
            raise FieldValueError("granary", "仓外（outdoor）读数的 granary 须为 null")
        return self


def _telemetry_schema_extra(schema: dict[str, Any]) -> None:
    _schema_required_first(schema)
    schema["anyOf"] = [
        {"properties": {"grain": {"minItems": 1}}},
        {"properties": {"air": {"minItems": 1}}},
    ]


class Telemetry(Message):
    """Grain scans and air readings of one batch (edge -> central)."""

    model_config = STRICT | {"json_schema_extra": _telemetry_schema_extra}
    SCHEMA_ID: ClassVar[str] = "grainlink.telemetry/1"
    schema_: Literal["grainlink.telemetry/1"] = _schema_field(SCHEMA_ID)
    depot: Code
    batch: int = Field(ge=1, le=f.MAX_BATCH)
    sent_at: UtcDatetime
    grain: list[GrainScan] = Field(max_length=f.MAX_GRAIN_SCANS)
    air: list[AirReading] = Field(max_length=f.MAX_AIR_READINGS)

    @model_validator(mode="after")
    def _not_empty(self) -> Telemetry:
        if not self.grain and not self.air:
            raise FieldValueError("grain", "grain 和 air 都为空，至少一项要有读数")
        return self


# ---- grainlink.layout/1 ----------------------------------------------------------------


class Region(Part):
    """Administrative division codes (6 digits each)."""

    province: RegionCode
    city: RegionCode
    county: RegionCode


class LayoutCable(Part):
    cable: int = Field(ge=1, le=f.MAX_CABLE)
    row: int = Field(ge=1, le=f.MAX_CABLE)
    col: int = Field(ge=1, le=f.MAX_CABLE)
    x_m: Metres
    y_m: Metres
    layers: int = Field(ge=1, le=f.MAX_LAYERS)


class LayoutGranary(Part):
    granary: Code
    name: Name
    type: Literal["flat", "squat_silo", "silo", "warehouse", "tank"]
    length_m: PositiveMetres
    width_m: PositiveMetres
    grain_height_m: PositiveMetres
    capacity_t: float = Field(gt=0.0, le=1e8, allow_inf_nan=False)
    grain: GrainVariety
    storage_mode: Literal["normal", "quasi_low", "low"]
    cables: list[LayoutCable] = Field(max_length=f.MAX_CABLES_PER_GRANARY)
    layer_depths_m: list[Metres] = Field(min_length=1, max_length=f.MAX_LAYERS)
    cameras: list[Code] = Field(max_length=f.MAX_CAMERAS)

    @field_validator("layer_depths_m")
    @classmethod
    def _depths_increase(cls, depths: list[float]) -> list[float]:
        for i in range(1, len(depths)):
            if depths[i] <= depths[i - 1]:
                raise FieldValueError(f"[{i}]", "各层深度须自上而下递增")
        return depths

    @model_validator(mode="after")
    def _cables_consistent(self) -> LayoutGranary:
        seen: set[int] = set()
        for i, cable in enumerate(self.cables):
            if cable.cable in seen:
                raise FieldValueError(f"cables[{i}].cable", f"测温电缆 {cable.cable} 列了两次")
            seen.add(cable.cable)
            if cable.layers > len(self.layer_depths_m):
                raise FieldValueError(
                    f"cables[{i}].layers",
                    f"有 {cable.layers} 层，但 layer_depths_m 只给出 {len(self.layer_depths_m)} 层",
                )
        return self


class LayoutCamera(Part):
    camera: Code
    granary: Code | None
    name: Name


class Layout(Message):
    """The depot's granaries, cables and cameras (retained; edge -> central)."""

    SCHEMA_ID: ClassVar[str] = "grainlink.layout/1"
    schema_: Literal["grainlink.layout/1"] = _schema_field(SCHEMA_ID)
    depot: Code
    name: Name
    region: Region
    generated_at: UtcDatetime
    granaries: list[LayoutGranary] = Field(max_length=f.MAX_GRANARIES)
    cameras: list[LayoutCamera] = Field(max_length=f.MAX_CAMERAS)

    @model_validator(mode="after")
    def _references_resolve(self) -> Layout:
        granaries: set[str] = set()
        for i, granary in enumerate(self.granaries):
            if granary.granary in granaries:
                raise FieldValueError(f"granaries[{i}].granary", "仓房代码列了两次")
            granaries.add(granary.granary)
        cameras: set[str] = set()
        for i, camera in enumerate(self.cameras):
            if camera.camera in cameras:
                raise FieldValueError(f"cameras[{i}].camera", "摄像机代码列了两次")
            cameras.add(camera.camera)
            if camera.granary is not None and camera.granary not in granaries:
                raise FieldValueError(
                    f"cameras[{i}].granary", f"仓房 {camera.granary!r} 不在 granaries 中"
                )
        for i, granary in enumerate(self.granaries):
            for j, camera_code in enumerate(granary.cameras):
                if camera_code not in cameras:
                    raise FieldValueError(
                        f"granaries[{i}].cameras[{j}]", f"摄像机 {camera_code!r} 不在 cameras 中"
                    )
        return self


# ---- grainlink.status/1 ----------------------------------------------------------------


class BufferStatus(Part):
    pending: Count
    oldest: UtcDatetime | None
    dropped_total: Count


class BusStatus(Part):
    bus: Code
    ok: bool
    errors_total: Count


class CameraStatus(Part):
    camera: Code
    ok: bool


class Status(Message):
    """Agent health, buffer and buses (retained; also the last will, state offline)."""

    SCHEMA_ID: ClassVar[str] = "grainlink.status/1"
    schema_: Literal["grainlink.status/1"] = _schema_field(SCHEMA_ID)
    depot: Code
    state: Literal["online", "offline"]
    ts: UtcDatetime
    agent_version: str = Field(min_length=1, max_length=64)
    buffer: BufferStatus
    buses: list[BusStatus] = Field(max_length=f.MAX_BUSES)
    cameras: list[CameraStatus] = Field(max_length=f.MAX_CAMERAS)


# ---- grainlink.event/1, grainlink.snapshot/1 ------------------------------------------

EventKind = Literal[
    "camera_offline",
    "camera_online",
    "motion",
    "tamper",
    "bus_fault",
    "bus_ok",
    "buffer_dropped",
    "agent_started",
]
EVENT_KINDS: tuple[str, ...] = get_args(EventKind)


class Event(Message):
    """Something that happened at the depot: camera, bus, buffer, agent."""

    SCHEMA_ID: ClassVar[str] = "grainlink.event/1"
    schema_: Literal["grainlink.event/1"] = _schema_field(SCHEMA_ID)
    depot: Code
    ts: UtcDatetime
    kind: EventKind
    subject: Name | None
    detail: dict[str, JsonValue]


class Snapshot(Message):
    """One camera still as base64 JPEG with its overlay text."""

    SCHEMA_ID: ClassVar[str] = "grainlink.snapshot/1"
    schema_: Literal["grainlink.snapshot/1"] = _schema_field(SCHEMA_ID)
    depot: Code
    camera: Code
    granary: Code | None
    ts: UtcDatetime
    overlay: str = Field(max_length=f.MAX_NAME)
    jpeg_b64: str = Field(
        min_length=4,
        max_length=4 * ((f.MAX_JPEG_BYTES + 2) // 3),
        description=f"base64 of one JPEG still, at most {f.MAX_JPEG_BYTES} bytes decoded",
    )

    @field_validator("jpeg_b64")
    @classmethod
    def _is_jpeg(cls, value: str) -> str:
        check_jpeg_b64(value, f.MAX_JPEG_BYTES)
        return value


# ---- grainlink.cmd/1, grainlink.cmd-result/1 ------------------------------------------


class Command(Message):
    """A command to the edge (central -> edge); answered once per id."""

    SCHEMA_ID: ClassVar[str] = "grainlink.cmd/1"
    schema_: Literal["grainlink.cmd/1"] = _schema_field(SCHEMA_ID)
    depot: Code
    id: Uuid
    # live_start / live_stop: an addition to the contract's list (issue 18, live view), with
    # the camera they are about; live_start again while it runs renews its time.
    action: Literal["scan_now", "snapshot", "republish_layout", "live_start", "live_stop"]
    granary: Code | None
    camera: Code | None = None
    issued_at: UtcDatetime
    # live_start only (optional, an addition like `camera`): the one-time key central's media
    # server asks for when the edge publishes this camera's stream (<url>/<stream>?key=…).
    live_key: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{16,64}$")
    # live_start only (optional): when that key ends at central. The edge ends the stream then
    # at the latest, even when its own live.duration is longer: central's key decides.
    live_until: UtcDatetime | None = None

    @model_serializer(mode="wrap")
    def _omit_no_camera(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # Left off the wire when null, so agents that predate the fields still accept the others.
        data = handler(self)
        for optional in ("camera", "live_key", "live_until"):
            if data.get(optional) is None:
                data.pop(optional, None)
        return data

    @model_validator(mode="after")
    def _live_names_its_camera(self) -> Command:
        if self.action.startswith("live_") and self.camera is None:
            raise FieldValueError("camera", f"{self.action} 须写明摄像机（camera）")
        for field in ("live_key", "live_until"):
            if getattr(self, field) is not None and self.action != "live_start":
                raise FieldValueError(field, f"只有 live_start 带 {field}，{self.action} 不带")
        return self


class CommandResult(Message):
    """The edge's answer to a command id."""

    SCHEMA_ID: ClassVar[str] = "grainlink.cmd-result/1"
    schema_: Literal["grainlink.cmd-result/1"] = _schema_field(SCHEMA_ID)
    depot: Code
    id: Uuid
    ok: bool
    detail: str = Field(max_length=f.MAX_DETAIL)
    done_at: UtcDatetime


MESSAGE_MODELS: tuple[type[Message], ...] = (
    Telemetry,
    Layout,
    Status,
    Event,
    Snapshot,
    Command,
    CommandResult,
)
MODEL_BY_SCHEMA: dict[str, type[Message]] = {m.SCHEMA_ID: m for m in MESSAGE_MODELS}
