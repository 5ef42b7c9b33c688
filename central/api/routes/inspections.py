"""Insect inspections of a granary: record one (→ grade and treatment deadline), list them,
mark one treated. A missed deadline becomes an `insect_treatment_overdue` alarm (job)."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Depends, HTTPException
from pydantic import BaseModel, ConfigDict, Field

from central.alarms import inspections
from central.api.auth import User, current_user, get_depot_or_404, require_write
from central.api.db import db_conn
from central.api.encoding import json_answer

router = APIRouter(tags=["inspections"])


class InspectionBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    date: date
    pests_per_kg: float = Field(ge=0, le=1e6, allow_inf_nan=False)
    major_per_kg: float = Field(ge=0, le=1e6, allow_inf_nan=False)
    quarantine_found: bool = False
    species: list[str] = Field(default_factory=list, max_length=50)
    grain_temp_c: float | None = Field(None, ge=-40, le=85, allow_inf_nan=False,
                                       description="default: the latest scan's maximum")


class TreatedBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    date: date


def _granary_or_404(conn, depot: str, granary: str) -> None:
    if conn.execute("SELECT 1 FROM granaries WHERE depot = %s AND granary = %s",
                    (depot, granary)).fetchone() is None:
        raise HTTPException(404, f"granary {granary!r} not found in depot {depot!r}")


def _plain(row: dict) -> dict:
    return {k: (v.isoformat() if isinstance(v, date) and not hasattr(v, "hour") else v)
            for k, v in row.items()}


@router.post("/depots/{depot}/granaries/{granary}/inspections", status_code=201,
             summary="record an insect inspection; answers its grade and deadline")
def add_inspection(depot: str, granary: str, body: InspectionBody,
                   user: User = Depends(require_write), conn=Depends(db_conn)):
    get_depot_or_404(conn, user, depot)
    _granary_or_404(conn, depot, granary)
    if body.major_per_kg > body.pests_per_kg:
        raise HTTPException(422, "major_per_kg cannot exceed pests_per_kg (major pests are "
                                 "counted among all pests)")
    with conn.transaction():
        row = inspections.record(conn, depot, granary, body.date, body.pests_per_kg,
                                 body.major_per_kg, body.quarantine_found, body.species,
                                 body.grain_temp_c, user.name)
    conn.commit()
    return json_answer(_plain(row), status_code=201)


@router.get("/depots/{depot}/granaries/{granary}/inspections", summary="inspections, newest first")
def get_inspections(depot: str, granary: str, user: User = Depends(current_user),
                    conn=Depends(db_conn)):
    get_depot_or_404(conn, user, depot)
    _granary_or_404(conn, depot, granary)
    return json_answer([_plain(r) for r in inspections.list_for(conn, depot, granary)])


@router.post("/depots/{depot}/granaries/{granary}/inspections/{inspection_id}/treated",
             summary="the pests were treated on this date (ends the deadline)")
def treated(depot: str, granary: str, inspection_id: int, body: TreatedBody,
            user: User = Depends(require_write), conn=Depends(db_conn)):
    get_depot_or_404(conn, user, depot)
    with conn.transaction():
        row = inspections.mark_treated(conn, depot, granary, inspection_id, body.date)
    if row is None:
        raise HTTPException(404, f"inspection {inspection_id} not found")
    conn.commit()
    return json_answer(_plain(row))
