"""Pure arithmetic behind the readings endpoints: cable scans, layer and granary statistics,
air with its dew point."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from protocols.domain.psychro import dew_point_c


def _round(x: float | None, ndigits: int = 2) -> float | None:
    return None if x is None else round(x, ndigits)


def summary(values: Iterable[float | None]) -> dict:
    """min/max/mean of the valid values (all None when there is none)."""
    vals = [v for v in values if v is not None]
    if not vals:
        return {"min": None, "max": None, "mean": None}
    return {"min": min(vals), "max": max(vals), "mean": _round(sum(vals) / len(vals))}


def cable_scan(layer_rows: Sequence[tuple[int, float | None, bool]],
               depth: int = 0) -> tuple[list, list]:
    """(temps_c, faults) of one cable scan from (layer, temp_c, fault) rows: at least `depth`
    layers (the registered count), 1-based, None where nothing valid was read; faults are
    the 1-based layers with a fault."""
    depth = max([depth, *(layer for layer, _t, _f in layer_rows)])
    temps: list[float | None] = [None] * depth
    faults = []
    for layer, temp, fault in layer_rows:
        # Stored as float4: round back to the two decimals the wire carries.
        temps[layer - 1] = _round(temp)
        if fault:
            faults.append(layer)
    return temps, sorted(faults)


def layer_stats(cables: Iterable[dict]) -> list[dict]:
    """Per-layer min/max/mean over the cables' `temps_c` (layer 1 = top)."""
    by_layer: dict[int, list[float]] = {}
    for cable in cables:
        for i, temp in enumerate(cable["temps_c"]):
            by_layer.setdefault(i + 1, [])
            if temp is not None:
                by_layer[i + 1].append(temp)
    return [{"layer": layer, **summary(by_layer[layer])} for layer in sorted(by_layer)]


def granary_stats(cables: Iterable[dict]) -> dict:
    return summary(t for cable in cables for t in cable["temps_c"])


def air_value(temp_c: float | None, rh_pct: float | None) -> dict:
    """An air reading with its dew point (None unless both values are there)."""
    temp_c, rh_pct = _round(temp_c), _round(rh_pct)
    dew = None
    if temp_c is not None and rh_pct is not None and 0 < rh_pct <= 100:
        dew = _round(dew_point_c(temp_c, rh_pct), 1)
    return {"temp_c": temp_c, "rh_pct": rh_pct, "dew_point_c": dew}
