"""Provisioning: register a depot's code and region, list the registry and the layouts kept
aside, approve or dismiss one of those."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from central.depots.identity import LayoutPolicy, refusal, registered_region
from central.depots.regions import Region, region_of_county
from central.ingest import registry
from protocols.mqtt.models import Layout

SOURCES = ("cli", "inventory", "approval")
DEPOT_CODE_CHARS = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")


class ProvisionError(ValueError):
    """A provisioning request that cannot be done; the message says why (Chinese)."""


@dataclass(frozen=True)
class Registered:
    code: str
    name: str | None
    region: Region
    source: str
    registered_at: datetime


@dataclass(frozen=True)
class Pending:
    id: int
    depot: str
    reason: str
    detail: str
    generated_at: datetime | None
    received_at: datetime
    resolution: str | None


def check_code(code: str) -> str:
    if not code or len(code) > 64 or not set(code) <= DEPOT_CODE_CHARS:
        raise ProvisionError(f"粮库代码 {code!r} 无效：应为 1–64 位字母、数字、_ 或 -")
    return code


def provision(conn, code: str, county: str, name: str | None = None, *, source: str = "cli",
              update: bool = False) -> str:
    """Register `code` in `county` (province and city follow from it). Returns "added",
    "unchanged" or "updated"; a different region for a registered depot needs `update`."""
    check_code(code)
    if source not in SOURCES:
        raise ProvisionError(f"未知的登记来源 {source!r}")
    try:
        region = region_of_county(county)
    except ValueError as exc:
        raise ProvisionError(str(exc)) from None
    with conn.transaction():
        row = conn.execute("SELECT province, city, county, name FROM depot_registry "
                           "WHERE code = %s FOR UPDATE", (code,)).fetchone()
        if row is not None:
            same_region = Region(*row[:3]) == region
            if same_region and (name is None or name == row[3]):
                return "unchanged"
            if not same_region and not update:
                raise ProvisionError(
                    f"粮库 {code} 已登记在 {Region(*row[:3])}，与 {region} 不同："
                    "确认迁移请加 --update")
        conn.execute(
            """INSERT INTO depot_registry (code, name, province, city, county, source)
               VALUES (%s, %s, %s, %s, %s, %s)
               ON CONFLICT (code) DO UPDATE SET name = coalesce(EXCLUDED.name, depot_registry.name),
                 province = EXCLUDED.province, city = EXCLUDED.city, county = EXCLUDED.county,
                 source = EXCLUDED.source, updated_at = now()""",
            (code, name, region.province, region.city, region.county, source))
        # Scoped users see a depot by its row in `depots`: it follows the registry.
        conn.execute("UPDATE depots SET province = %s, city = %s, county = %s, updated_at = now() "
                     "WHERE code = %s", (region.province, region.city, region.county, code))
    return "added" if row is None else "updated"


def list_registered(conn) -> list[Registered]:
    rows = conn.execute("SELECT code, name, province, city, county, source, registered_at "
                        "FROM depot_registry ORDER BY code").fetchall()
    return [Registered(r[0], r[1], Region(r[2], r[3], r[4]), r[5], r[6]) for r in rows]


def list_pending(conn, *, include_resolved: bool = False) -> list[Pending]:
    rows = conn.execute(
        "SELECT id, depot, reason, detail, generated_at, received_at, resolution "
        "FROM pending_layouts WHERE %s OR resolved_at IS NULL ORDER BY id",
        (include_resolved,)).fetchall()
    return [Pending(*r) for r in rows]


def _open_pending(conn, pending_id: int):
    row = conn.execute("SELECT depot, reason, layout FROM pending_layouts "
                       "WHERE id = %s AND resolved_at IS NULL FOR UPDATE", (pending_id,)).fetchone()
    if row is None:
        raise ProvisionError(f"没有待处理的布局 {pending_id}（不存在或已处理）")
    return row


def approve(conn, pending_id: int, policy: LayoutPolicy = LayoutPolicy()) -> str:
    """Register the depot with the pending layout's region and apply the layout. A layout
    dated in the future or with contradictory region codes cannot be approved (dismiss it;
    the depot sends a correct one once its clock or configuration is fixed)."""
    with conn.transaction():
        depot, reason, payload = _open_pending(conn, pending_id)
        if reason in ("future", "region_inconsistent"):
            raise ProvisionError(f"布局 {pending_id} 的问题（{reason}）不能靠批准解决：请用 dismiss 驳回")
        layout = Layout.model_validate(payload)
        r = layout.region
        provision(conn, depot, r.county, layout.name, source="approval", update=True)
        now = datetime.now(UTC)
        why = refusal(layout, now, registered_region(conn, depot), policy)
        if why is not None and why[0] == "future":
            raise ProvisionError(f"布局 {pending_id}：{why[1]}")
        registry.apply_layout(conn, layout)
        conn.execute("UPDATE pending_layouts SET resolved_at = now(), resolution = 'approved' "
                     "WHERE id = %s", (pending_id,))
        # Earlier layouts of the same depot waiting for the same decision are settled by it.
        conn.execute("UPDATE pending_layouts SET resolved_at = now(), resolution = 'superseded' "
                     "WHERE depot = %s AND resolved_at IS NULL AND id < %s", (depot, pending_id))
    return depot


def dismiss(conn, pending_id: int) -> str:
    with conn.transaction():
        depot, _, _ = _open_pending(conn, pending_id)
        conn.execute("UPDATE pending_layouts SET resolved_at = now(), resolution = 'dismissed' "
                     "WHERE id = %s", (pending_id,))
    return depot
