"""`grainlink edge history`: the readings kept in the edge database, so a technician can look
at the last days on site without the WAN (whether or not the agent runs)."""

from __future__ import annotations

from datetime import datetime

from edge.config import EdgeConfig
from protocols.mqtt.models import AirReading, GrainScan
from protocols.timefmt import format_ts

_PLACE = {"indoor": "仓内", "outdoor": "仓外"}


def read_history(cfg: EdgeConfig, granary: str | None,
                 since: datetime) -> tuple[list[GrainScan], list[AirReading]] | None:
    """Cable scans and air readings kept since `since`; None when there is no database."""
    from edge.outbox.outbox import Outbox

    if not cfg.outbox_path.exists():
        return None
    outbox = Outbox(cfg.outbox_path, cfg.code)
    try:
        return outbox.history_since(granary, since)
    finally:
        outbox.close()


def _temp(v: float | None) -> str:
    return "-" if v is None else f"{v:.1f} °C"


def format_history(grain: list[GrainScan], air: list[AirReading]) -> str:
    """One line per cable scan (lowest, highest, mean, faulty sensors), then the air readings."""
    lines = []
    for g in grain:
        valid = [t for t in g.temps_c if t is not None]
        low, high = (min(valid), max(valid)) if valid else (None, None)
        mean = sum(valid) / len(valid) if valid else None
        lines.append(f"{format_ts(g.ts)}  仓房 {g.granary}  电缆 {g.cable:3d}  "
                     f"最低 {_temp(low)}  最高 {_temp(high)}  平均 {_temp(mean)}  "
                     f"测点 {len(g.temps_c)}  故障 {len(g.faults)}")
    for a in air:
        where = _PLACE.get(a.place, a.place) + (f" {a.granary}" if a.granary else "")
        rh = "-" if a.rh_pct is None else f"{a.rh_pct:.1f} %RH"
        lines.append(f"{format_ts(a.ts)}  {where}  气温 {_temp(a.temp_c)}  湿度 {rh}")
    return "\n".join(lines)
