"""The four-eyes state machine of domain.md §10, pure.

A request is `pending` until a different user whose job roles entitle them approves or
rejects it; both decisions are final. `decide` returns the new state or raises `Refused`
with the HTTP status the API answers (403 requester or role, 409 already decided).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

PENDING, APPROVED, REJECTED = "pending", "approved", "rejected"
STATES = (PENDING, APPROVED, REJECTED)

# What needs four eyes, and which job roles may approve it. A depot manager approves the
# work of his depot; exceptions, write-offs and plans are for the supervisors above it.
APPROVERS: dict[str, frozenset[str]] = {
    "transfer": frozenset({"manager", "supervisor", "admin"}),
    "correction": frozenset({"manager", "supervisor", "admin"}),
    "intake_exception": frozenset({"supervisor", "admin"}),
    "write_off": frozenset({"supervisor", "admin"}),
    "plan_change": frozenset({"supervisor", "admin"}),
    "threshold_loosening": frozenset({"supervisor", "admin"}),
}
KINDS = tuple(APPROVERS)

KIND_NAMES = {
    "transfer": "移库（倒仓）",
    "correction": "出入库更正",
    "intake_exception": "入库例外",
    "write_off": "核销损耗",
    "plan_change": "储备计划变更",
    "threshold_loosening": "放宽预警阈值",
}


class Refused(Exception):
    def __init__(self, status: int, detail: str):
        super().__init__(detail)
        self.status = status
        self.detail = detail


@dataclass(frozen=True)
class Decision:
    state: str
    by: str


def decided_refusal(state: str) -> str:
    """The 409 message for a request already decided."""
    return f"该申请已{'批准' if state == APPROVED else '驳回'}，不能再次审批"


def decide(kind: str, state: str, requested_by: str, user: str, roles: Iterable[str],
           approve: bool) -> Decision:
    """Approve or reject a request; the requester never decides their own request."""
    if user == requested_by:
        raise Refused(403, "四眼原则：申请人不能审批自己的申请")
    entitled = APPROVERS.get(kind, frozenset())
    if not entitled & set(roles):
        names = "、".join(sorted(entitled))
        raise Refused(403, f"审批{KIND_NAMES.get(kind, kind)}需要以下岗位之一：{names}")
    if state != PENDING:
        raise Refused(409, decided_refusal(state))
    return Decision(APPROVED if approve else REJECTED, user)
