"""Four-eyes approvals (contract api.md "Approvals", domain.md §10): the requests in the
caller's scope, and their approval or rejection by a different, entitled user (403 for the
requester or a user without the role; 409 once decided)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, HTTPException, Query, Request
from pydantic import BaseModel, ConfigDict

from central.api import reserve_lists
from central.api.auth import depot_in_scope
from central.api.deps import CurrentUser, DbConn, WriteUser
from central.api.encoding import json_answer
from central.api.listing import TOTAL_HEADER, order_or_422, with_total
from central.api.queries import depot_row
from central.api.routes import reserve_models as m
from central.api.routes.reserve_common import Text, run, scope_where, settings_of
from central.approvals import store
from central.approvals.actions import executor
from central.approvals.rules import Refused
from central.lots.plans import covers_region

router = APIRouter(tags=["approvals"])

# The page size the list always had (it was a silent cap): the default and the bound.
APPROVAL_LIMIT = 500


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


@router.get("/approvals", response_model=list[m.Approval], summary="调用者管辖范围内的审批申请",
            description=f"最新的在前，每页最多 {APPROVAL_LIMIT} 条；符合条件的总数见 "
                        f"`{TOTAL_HEADER}` 响应头。`sort` 取 {', '.join(reserve_lists.APPROVAL_SORTS)} 之一，"
                        f"前加 `-` 为降序（默认 -id）。")
def list_approvals(user: CurrentUser, conn: DbConn,
                   state: Literal["pending", "approved", "rejected"] | None = None,
                   kind: str | None = Query(None, pattern=r"^[a-z_]{1,40}$"),
                   sort: str | None = Query(None, max_length=41),
                   limit: int = Query(APPROVAL_LIMIT, ge=1, le=APPROVAL_LIMIT),
                   offset: int = Query(0, ge=0, le=10_000_000)):
    order = order_or_422(sort, reserve_lists.APPROVAL_SORTS, reserve_lists.APPROVAL_DEFAULT,
                         reserve_lists.APPROVAL_TIE)
    where, params = scope_where(user)
    regions = reserve_lists.approval_regions(conn, lambda code: covers_region(user, code))
    rows, total = reserve_lists.approval_page(conn, where, params, regions, state, kind, order, limit, offset)
    return with_total(json_answer([store.answer(r) for r in rows]), total)


@router.get("/approvals/{approval_id}", response_model=m.Approval, summary="单条审批申请")
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
             summary="批准：申请即时生效")
def approve(approval_id: int, request: Request, user: WriteUser, conn: DbConn,
            body: DecisionBody | None = None):
    return _decide(request, approval_id, user, body, conn, True)


@router.post("/approvals/{approval_id}/reject", response_model=m.Approval, summary="驳回申请")
def reject(approval_id: int, request: Request, user: WriteUser, conn: DbConn,
            body: DecisionBody | None = None):
    return _decide(request, approval_id, user, body, conn, False)
