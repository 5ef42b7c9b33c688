"""The advisor of the granary `latest` answer (central/wiring.py hands it to the API):
cooling-ventilation advice (domain.md §4) and the grain's equilibrium moisture at the
indoor air's conditions. Advice, never an alarm."""

from __future__ import annotations

from central.alarms.state.thresholds_store import thresholds_for
from central.rules.advice import cooling_ventilation
from protocols.domain.emc import UnknownGrainError, db_to_wb, emc_db


def _top_bottom(layers: list[dict]) -> float | None:
    means = [(x["layer"], x["mean"]) for x in layers if x.get("mean") is not None]
    if len(means) < 2:
        return None
    means.sort()
    return round(abs(means[0][1] - means[-1][1]), 2)


def ventilation_item(latest: dict, th) -> dict | None:
    stats = latest.get("granary_stats") or {}
    if stats.get("mean") is None or stats.get("min") is None:
        return None
    outdoor = latest.get("outdoor") or {}
    advice = cooling_ventilation(stats["mean"], stats["min"], _top_bottom(latest.get("layers") or []),
                                 outdoor.get("temp_c"), outdoor.get("rh_pct"), th)
    return advice.as_dict()


def emc_item(grain: str | None, indoor: dict | None) -> dict | None:
    """Equilibrium moisture (% wet basis, as 水分 is quoted, and % dry basis)."""
    if not grain or not indoor or indoor.get("temp_c") is None or indoor.get("rh_pct") is None:
        return None
    item = {"kind": "equilibrium_moisture", "grain": grain, "indoor_temp_c": indoor["temp_c"],
            "indoor_rh_pct": indoor["rh_pct"]}
    try:
        m_db = emc_db(indoor["temp_c"], indoor["rh_pct"], grain)
    except UnknownGrainError:
        return {**item, "emc_wb_pct": None, "emc_db_pct": None,
                "reason": f"粮种 {grain} 没有平衡水分方程，无法计算"}
    except ValueError:  # RH of 0 or 100, temperature out of the equation's range
        return {**item, "emc_wb_pct": None, "emc_db_pct": None,
                "reason": "仓温或仓湿超出平衡水分方程的适用范围，无法计算"}
    return {**item, "emc_db_pct": round(m_db, 2), "emc_wb_pct": round(db_to_wb(m_db), 2)}


def granary_advice(latest: dict, conn) -> list[dict]:
    depot, granary = latest.get("depot"), latest.get("granary")
    row = conn.execute("SELECT grain FROM granaries WHERE depot = %s AND granary = %s",
                       (depot, granary)).fetchone()
    th = thresholds_for(conn, depot, granary)
    items = [ventilation_item(latest, th), emc_item(row[0] if row else None, latest.get("indoor"))]
    return [i for i in items if i is not None]

