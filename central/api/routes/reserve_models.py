"""Response models of the reserve-management routes, for the OpenAPI document. The routes
answer through `json_answer`, so these describe the contract's fields without re-validating
each answer; extra fields (who, when) are allowed."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class LotRow(_Open):
    lot: str
    depot: str
    granary: str
    category: str
    variety: str
    grade: str | None = None
    harvest_year: int | None = None
    balance_t: float
    state: Literal["open", "settled"]


class Movement(_Open):
    id: int
    lot: str
    direction: Literal["in", "out"]
    date: str
    quantity_t: float
    moisture_pct: float
    impurity_pct: float
    voucher: str
    correction_of: int | None = None


class LotView(_Open):
    lot: str
    depot: str
    granary: str
    category: str
    variety: str
    balance_t: float
    movements: list[dict[str, Any]]
    settlement: dict[str, Any] | None = None


class Settlement(_Open):
    lot: str
    months_stored: int
    quantity_in_t: float
    quantity_out_t: float
    moisture_reduction_t: float
    impurity_reduction_t: float
    natural_loss_t: float
    natural_loss_rate_pct: float
    norm_rate_pct: float
    allowed_loss_t: float
    over_loss_t: float
    storage_accident: bool


class Pending(_Open):
    approval: int
    state: Literal["pending"]


class LedgerEntry(_Open):
    id: int
    at: datetime
    by_user: str
    action: str
    detail: dict[str, Any]


class LotLedgers(_Open):
    lot: str
    agrees: bool


class CountResult(_Open):
    counted_t: float
    book_t: float
    moisture_reduction_t: float
    impurity_reduction_t: float
    natural_loss_t: float
    adjusted_book_t: float
    difference_pct: float
    agrees: bool


class GranaryStock(_Open):
    granary: str
    capacity_t: float | None
    lots: list[dict[str, Any]]
    book_t: float
    last_count: dict[str, Any] | None


class VarietyStock(_Open):
    variety: str
    book_t: float


class DepotStock(_Open):
    granaries: list[GranaryStock]
    varieties: list[VarietyStock]


class Batch(_Open):
    code: str
    depot: str
    direction: Literal["in", "out"]
    category: str
    variety: str
    arrived_at: datetime
    state: str
    steps: list[dict[str, Any]] = []


class Approval(_Open):
    id: int
    kind: str
    state: Literal["pending", "approved", "rejected"]
    requested_by: str
    requested_at: datetime
    decided_by: str | None = None
    decided_at: datetime | None = None


class Plan(_Open):
    scope_kind: Literal["region", "depot"]
    scope: str
    variety: str


class Inspection(_Open):
    id: int
    depot: str
    kind: str
    inspected_on: str


class Figures(_Open):
    scope: str
    period: str


class Rows(_Open):
    rows: list[dict[str, Any]]
