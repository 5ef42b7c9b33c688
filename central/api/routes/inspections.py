"""Insect inspections of a granary: record one (→ grade and treatment deadline), list them,
mark one treated. A missed deadline becomes an `insect_treatment_overdue` alarm (job)."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, ConfigDict, Field, model_validator

from central.alarms.state import inspections
from central.api.deps import DbConn, GranaryRef, WriteUser
from central.api.encoding import json_answer
from central.api.params import RecordDate
from central.api.schemas import Inspection, answer, write_answer

router = APIRouter(tags=["inspections"])

_BIGINT_MAX = 2**63 - 1


class InspectionBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    date: RecordDate
    pests_per_kg: float = Field(ge=0, le=1e6, allow_inf_nan=False)
    major_per_kg: float = Field(ge=0, le=1e6, allow_inf_nan=False)
    quarantine_found: bool = False
    species: list[str] = Field(default_factory=list, max_length=50)
    grain_temp_c: float | None = Field(None, ge=-40, le=85, allow_inf_nan=False,
                                       description="默认：最近一次检测的最高粮温")

    @model_validator(mode="after")
    def _major_among_all(self):
        if self.major_per_kg > self.pests_per_kg:
            # Major pests are counted among all pests.
            raise ValueError("major_per_kg 不能大于 pests_per_kg（主要害虫计在全部害虫之内）")
        return self


class TreatedBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    date: RecordDate


def _plain(row: dict) -> dict:
    return {k: (v.isoformat() if isinstance(v, date) and not hasattr(v, "hour") else v)
            for k, v in row.items()}


@router.post("/depots/{depot}/granaries/{granary}/inspections", status_code=201,
             response_model=Inspection, responses=write_answer(),
             summary="记录虫害检查，返回虫粮等级和处理期限")
def add_inspection(user: WriteUser, granary: GranaryRef, body: InspectionBody, conn: DbConn):
    with conn.transaction():
        row = inspections.record(conn, granary.depot, granary.granary, body.date,
                                 body.pests_per_kg, body.major_per_kg, body.quarantine_found,
                                 body.species, body.grain_temp_c, user.name)
    return json_answer(_plain(row), status_code=201)


@router.get("/depots/{depot}/granaries/{granary}/inspections", response_model=list[Inspection],
            responses=answer(), summary="虫害检查记录，最新的在前")
def get_inspections(granary: GranaryRef, conn: DbConn):
    return json_answer([_plain(r) for r in
                        inspections.list_for(conn, granary.depot, granary.granary)])


@router.post("/depots/{depot}/granaries/{granary}/inspections/{inspection_id}/treated",
             response_model=Inspection, responses=write_answer(),
             summary="登记害虫已于该日处理（期限结束）")
def treated(user: WriteUser, granary: GranaryRef, inspection_id: int, body: TreatedBody,
            conn: DbConn):
    row = None
    if 1 <= inspection_id <= _BIGINT_MAX:
        with conn.transaction():
            row = inspections.mark_treated(conn, granary.depot, granary.granary, inspection_id,
                                           body.date)
    if row is None:
        raise HTTPException(404, f"检查记录 {inspection_id} 不存在")
    return json_answer(_plain(row))
