"""Four-eyes approvals (contract api.md "Approvals", domain.md §10): the requests in the
caller's scope, and their approval or rejection by a different, entitled user (403 for the
requester or a user without the role; 409 once decided)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, ConfigDict

from central.api.auth import depot_in_scope
from central.api.deps import CurrentUser, DbConn, WriteUser
from central.api.encoding import json_answer
from central.api.queries import depot_row
from central.api.routes import reserve_models as m
from central.api.routes.reserve_common import Text, run, scope_where, settings_of
from central.approvals import store
from central.approvals.actions import executor
from central.approvals.rules import Refused
from central.lots.plans import covers_region

router = APIRouter(tags=["approvals"])


class DecisionBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: Text | None = None


def _visible(conn, user, row: dict) -> bool:
    def depot_ok(code: str) -> bool:
        d = depot_row(conn, code)
        return d is not None and depot_in_scope(user, d.get("region_code"), code)
    return store.in_scope(row, user, depot_ok, covers_region)


def approval_or_404(conn, user, approval_id: int) -> dict:
    row = store.get(conn, approval_id) if 0 < approval_id < 2**63 else None
    if row is None or not _visible(conn, user, row):
        raise HTTPException(404, f"审批申请 {approval_id} 不存在")
    return row


@router.get("/approvals", response_model=list[m.Approval], summary="requests in the caller's scope")
def list_approvals(user: CurrentUser, conn: DbConn,
                   state: Literal["pending", "approved", "rejected"] | None = None):
    where, params = scope_where(user)
    rows = store.listing(conn, state, where, params, lambda code: covers_region(user, code))
    return json_answer([store.answer(r) for r in rows])


@router.get("/approvals/{approval_id}", response_model=m.Approval, summary="one request")
def get_approval(approval_id: int, user: CurrentUser, conn: DbConn):
    return json_answer(store.answer(approval_or_404(conn, user, approval_id)))


def _decide(request: Request, approval_id: int, user, body: DecisionBody | None, conn, approve: bool):
    row = approval_or_404(conn, user, approval_id)
    try:
        decided = run(conn, store.decide_and_apply, row, user, approve, body.note if body else None,
                      executor(settings_of(request)), passthrough=(Refused,))
    except Refused as exc:
        raise HTTPException(exc.status, exc.detail) from None
    return json_answer(store.answer(decided))


@router.post("/approvals/{approval_id}/approve", response_model=m.Approval,
             summary="approve: the request takes effect now")
def approve(approval_id: int, request: Request, user: WriteUser, conn: DbConn,
            body: DecisionBody | None = None):
    return _decide(request, approval_id, user, body, conn, True)


@router.post("/approvals/{approval_id}/reject", response_model=m.Approval, summary="reject the request")
def reject(approval_id: int, request: Request, user: WriteUser, conn: DbConn,
            body: DecisionBody | None = None):
    return _decide(request, approval_id, user, body, conn, False)
