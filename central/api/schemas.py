"""Shapes of the answers, for the OpenAPI document (the routes write JSON directly)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class ErrorDetail(BaseModel):
    detail: str


class DepotSummary(BaseModel):
    depot: str
    name: str | None
    region: str | None
    state: Literal["online", "offline", "unknown"]
    last_seen: str | None
    granaries: int
    active_alarms: int


class BatchGap(BaseModel):
    first_missing: int
    last_missing: int
    missing: int


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


ERRORS = {401: {"model": ErrorDetail, "description": "no or bad token"},
          404: {"model": ErrorDetail, "description": "unknown or out of scope"}}


def answer(model) -> dict:
    return {200: {"model": model}, **ERRORS}
