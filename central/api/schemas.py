"""Shapes of the answers: each route names one as its `response_model`, so the OpenAPI
document describes every answer. The routes still write their JSON directly
(`encoding.json_answer`, times as `…Z` text), so these models document and test the
contract; they never reshape an answer."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from central.ingest.batches import BatchAnomaly, BatchGap  # noqa: F401 - the API answers with them


class ErrorDetail(BaseModel):
    detail: str


class Health(BaseModel):
    status: Literal["ok"]
    database: Literal["ok"]


class DepotSummary(BaseModel):
    depot: str
    name: str | None
    region: str | None
    state: Literal["online", "offline", "unknown"]
    last_seen: str | None
    granaries: int
    active_alarms: int


class Stats(BaseModel):
    min: float | None
    max: float | None
    mean: float | None


class LayerStats(Stats):
    layer: int


class CableLatest(BaseModel):
    cable: int
    row: int | None
    col: int | None
    ts: str | None
    temps_c: list[float | None]
    faults: list[int]
    stats: Stats


class Air(BaseModel):
    ts: str
    temp_c: float | None
    rh_pct: float | None
    dew_point_c: float | None


class GranaryLatest(BaseModel):
    depot: str
    granary: str
    ts: str | None
    cables: list[CableLatest]
    layers: list[LayerStats]
    granary_stats: Stats
    indoor: Air | None
    outdoor: Air | None
    advice: list[dict]


class BucketStats(Stats):
    ts: str
    n: int


class LayerSeries(BaseModel):
    layer: int
    points: list[BucketStats]


class AirBucket(BaseModel):
    ts: str
    temp_min: float | None
    temp_max: float | None
    temp_mean: float | None
    rh_min: float | None
    rh_max: float | None
    rh_mean: float | None


class GranaryHistory(BaseModel):
    depot: str
    granary: str
    bucket: Literal["raw", "1h", "1d"]
    from_: str = Field(alias="from")
    to: str
    granary_stats: list[BucketStats]
    layers: list[LayerSeries]
    indoor: list[AirBucket]
    outdoor: list[AirBucket]

    model_config = {"populate_by_name": True}


class DepotDetail(BaseModel):
    """登记的仓房布局（grainlink.layout/1 的全部键）及粮库状态。"""
    model_config = ConfigDict(extra="allow")
    depot: str
    name: str | None = None
    region: dict[str, str | None] | None = None
    granaries: list[dict[str, Any]] = []
    cameras: list[dict[str, Any]] = []
    state: Literal["online", "offline", "unknown"]
    state_since: str | None
    last_seen: str | None
    clock_skew_s: float | None
    clock_flagged: bool | None
    timezone: str = Field("Asia/Shanghai", description="粮库的 IANA 时区（用于给工作人员显示时间）")


class ThresholdChange(BaseModel):
    by: str
    at: str
    old: dict[str, Any]
    new: dict[str, Any]


class ThresholdsAnswer(BaseModel):
    depot: str
    granary: str | None
    overrides: dict[str, Any] = Field(description="在此级别修改过的设置")
    effective: dict[str, Any] = Field(description="依次叠加默认值、粮库级、仓房级后的生效值")
    changes: list[ThresholdChange] = Field(description="最新的在前：修改人、时间、原值、新值")
    floor: dict[str, Any] = Field(default_factory=dict,
                                  description="全省底线：任何设置都不得比它宽松")


class Alarm(BaseModel):
    id: int
    depot: str
    granary: str | None
    rule: str
    subject: str | None
    severity: Literal["warning", "alarm"]
    state: Literal["active", "acknowledged", "cleared"]
    value: float | None
    threshold: float | None
    message: str
    opened_at: str
    updated_at: str
    acknowledged_at: str | None
    acknowledged_by: str | None
    ack_note: str | None
    cleared_at: str | None


class AlarmAction(BaseModel):
    kind: Literal["plan", "approve", "execute", "result"]
    text: str
    by: str
    at: str


class AlarmWithActions(Alarm):
    actions: list[AlarmAction]


class AlarmChange(BaseModel):
    at: str
    change: str
    by: str | None
    severity: str | None
    state: str | None
    value: float | None
    message: str | None


class AlarmDetail(AlarmWithActions):
    history: list[AlarmChange]


class Inspection(BaseModel):
    id: int
    depot: str
    granary: str
    inspected_on: str
    pests_per_kg: float
    major_per_kg: float
    quarantine_found: bool
    species: list[str]
    grain_temp_c: float | None
    grade: str
    deadline: str | None
    treated_on: str | None
    by: str
    recorded_at: str


class ReportDay(BaseModel):
    day: str
    grain_min: float | None
    grain_max: float | None
    grain_mean: float | None
    layers: list[LayerStats]
    indoor_temp_c: float | None
    indoor_rh_pct: float | None
    outdoor_temp_c: float | None
    outdoor_rh_pct: float | None


class ReportAlarm(BaseModel):
    id: int
    rule: str
    subject: str | None
    severity: str
    state: str
    message: str
    opened_at: str
    cleared_at: str | None
    actions: list[AlarmAction]


class GranaryReport(BaseModel):
    depot: str
    granary: str
    from_: str = Field(alias="from")
    days: int
    timezone: str
    morning_window: str
    days_rows: list[ReportDay]
    alarms: list[ReportAlarm]

    model_config = {"populate_by_name": True}


class LotReport(BaseModel):
    lot: dict[str, Any] = Field(description="与 GET /lots/{lot} 的应答相同")
    ledger: list[dict[str, Any]]


ERRORS = {401: {"model": ErrorDetail, "description": "令牌缺失或无效"},
          404: {"model": ErrorDetail, "description": "不存在或不在权限范围内"},
          422: {"model": ErrorDetail, "description": "参数或正文无效（指明字段）"}}
WRITE_ERRORS = {**ERRORS, 403: {"model": ErrorDetail, "description": "只有查看权限"},
                409: {"model": ErrorDetail, "description": "与当前状态冲突"},
                413: {"model": ErrorDetail, "description": "正文超过 1 MiB"}}


def answer(model=None) -> dict:
    """The error answers of a read route (the 200 answer is its `response_model`)."""
    return dict(ERRORS) if model is None else {200: {"model": model}, **ERRORS}


def write_answer() -> dict:
    """The error answers of a write route."""
    return dict(WRITE_ERRORS)


def file_answer(*media: str) -> dict:
    """Other formats of a 200 answer (CSV, HTML) beside its JSON `response_model`."""
    return {200: {"content": {m: {"schema": {"type": "string"}} for m in media}}, **ERRORS}
