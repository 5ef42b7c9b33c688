"""Whether a depot's layout may change what central knows of it.

A layout registers granaries and cables, but never the depot's identity: the code and region
come from provisioning (`depot_registry`). Ingest calls `admit_layout` in its transaction
before applying a layout; a layout that is not admitted is kept in `pending_layouts` for a
supervisor and changes nothing:

- its region's parts disagree with each other (a county outside its city or province);
- its `generated_at` lies beyond the clock-skew allowance in the future (a layout dated 9999
  would otherwise outrank every later one for good);
- its depot was never provisioned, unless `auto_provision` is on (the demo, tests): then the
  first admitted layout registers the depot with its region, and later ones must agree;
- its region differs from the registered one (a depot moving itself out of its supervisors'
  view).
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from psycopg.types.json import Jsonb

from central.depots.regions import Region, region_problem
from protocols.mqtt.models import Layout

log = logging.getLogger("central.depots")

REASONS = {
    "unregistered": "粮库未登记",
    "region_mismatch": "行政区划与登记不符",
    "region_inconsistent": "行政区划代码互相矛盾",
    "future": "生成时间超前",
}


@dataclass(frozen=True)
class LayoutPolicy:
    skew_tolerance_s: float = 300.0
    auto_provision: bool = False

    @classmethod
    def from_settings(cls, settings) -> LayoutPolicy:
        return cls(settings.clock_skew_tolerance_s, settings.auto_provision)


def layout_digest(payload: dict) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def registered_region(conn, code: str) -> Region | None:
    row = conn.execute("SELECT province, city, county FROM depot_registry WHERE code = %s",
                       (code,)).fetchone()
    return Region(*row) if row else None


def refusal(layout: Layout, received_at: datetime, registered: Region | None,
            policy: LayoutPolicy) -> tuple[str, str] | None:
    """(reason, detail in Chinese) why the layout is kept aside, or None. Pure."""
    r = layout.region
    problem = region_problem(r.province, r.city, r.county)
    if problem:
        return "region_inconsistent", f"布局的行政区划 {r.province}/{r.city}/{r.county} 有误：{problem}"
    allowance = timedelta(seconds=policy.skew_tolerance_s)
    if layout.generated_at > received_at + allowance:
        return "future", (f"布局生成时间 {layout.generated_at:%Y-%m-%dT%H:%M:%SZ} 晚于接收时间 "
                          f"{received_at:%Y-%m-%dT%H:%M:%SZ}，超出时钟偏差允许值 "
                          f"{policy.skew_tolerance_s:g} 秒")
    if registered is None:
        if policy.auto_provision:
            return None
        return "unregistered", (f"粮库 {layout.depot} 未登记：请用 `grainlink central depot add "
                                f"{layout.depot} --region 县级代码` 登记，或批准此布局")
    mine = Region(r.province, r.city, r.county)
    if mine != registered:
        return "region_mismatch", f"布局的行政区划 {mine} 与登记的 {registered} 不一致"
    return None


def admit_layout(conn, layout: Layout, received_at: datetime,
                 policy: LayoutPolicy = LayoutPolicy()) -> bool:
    """True when the layout may be applied; otherwise it is kept aside (in the caller's
    transaction) and False. Auto-provisions the depot when the policy allows."""
    registered = registered_region(conn, layout.depot)
    why = refusal(layout, received_at, registered, policy)
    if why is None and registered is None:
        r = layout.region
        conn.execute(
            """INSERT INTO depot_registry (code, name, province, city, county, source)
               VALUES (%s, %s, %s, %s, %s, 'auto') ON CONFLICT (code) DO NOTHING""",
            (layout.depot, layout.name, r.province, r.city, r.county))
        # Another worker may have registered it meanwhile, with another region.
        registered = registered_region(conn, layout.depot)
        why = refusal(layout, received_at, registered, policy)
    if why is None:
        return True
    keep_aside(conn, layout, received_at, *why)
    return False


def keep_aside(conn, layout: Layout, received_at: datetime, reason: str, detail: str) -> None:
    payload = layout.model_dump(mode="json", by_alias=True)
    row = conn.execute(
        """INSERT INTO pending_layouts (depot, reason, detail, layout, digest, generated_at,
             received_at) VALUES (%s, %s, %s, %s, %s, %s, %s)
           ON CONFLICT (depot, digest) DO NOTHING RETURNING id""",
        (layout.depot, reason, detail, Jsonb(payload), layout_digest(payload),
         layout.generated_at, received_at)).fetchone()
    if row:
        log.warning("layout of depot %s kept aside for a supervisor (pending %s): %s",
                    layout.depot, row[0], reason)
