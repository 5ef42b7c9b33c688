"""The hourly and daily aggregates, the same names and columns on both storage paths.

TimescaleDB builds them as continuous aggregates (`timescale.py`), plain PostgreSQL as
materialized views refreshed by a job (`plain.py`). Readers (the API) only see:

- `grain_hourly`, `grain_daily`: per sensor (depot, granary, cable, layer, bucket)
- `grain_layer_hourly`, `grain_layer_daily`: per granary layer (depot, granary, layer, bucket)
- `air_hourly`, `air_daily`: per air sensor (depot, granary ('' = outdoor), place, bucket)

each with `temp_min`, `temp_max`, `temp_mean`, `temp_sum`, `n` (and `rh_*` for air). Combine
buckets with sum(temp_sum)/sum(n), never a mean of means. Faulty readings, empty ones and
those with an implausible time (flags bit 1) are left out. Daily buckets start at local
midnight of `day_timezone` (the depots' zone, Asia/Shanghai by default).
"""

from __future__ import annotations

from dataclasses import dataclass

IMPLAUSIBLE_TIME = 1
CLOCK_SKEWED = 2

# Grain temperatures are stored in hundredths (temp_x100 smallint, migration 0060); the
# aggregates give °C in double precision, from exact integer sums.
_GRAIN_VALUES = """min(temp_x100)::float8 / 100 AS temp_min, max(temp_x100)::float8 / 100 AS temp_max,
           avg(temp_x100::float8) / 100 AS temp_mean, sum(temp_x100)::float8 / 100 AS temp_sum,
           count(temp_x100) AS n"""
# Sums in double precision: a real (float4) sum of a day of a layer loses the second decimal.
_AIR_VALUES = """min(temp_c) AS temp_min, max(temp_c) AS temp_max,
           avg(temp_c::float8) AS temp_mean, sum(temp_c::float8) AS temp_sum, count(temp_c) AS n,
           min(rh_pct) AS rh_min, max(rh_pct) AS rh_max, avg(rh_pct::float8) AS rh_mean,
           sum(rh_pct::float8) AS rh_sum, count(rh_pct) AS rh_n"""
_GRAIN_WHERE = f"temp_x100 IS NOT NULL AND NOT fault AND (flags & {IMPLAUSIBLE_TIME}) = 0"
_AIR_WHERE = f"(flags & {IMPLAUSIBLE_TIME}) = 0"


@dataclass(frozen=True)
class Aggregate:
    name: str
    source: str
    keys: tuple[str, ...]
    values: str
    where: str
    daily: bool

    def select(self, bucket_expr: str) -> str:
        """The defining SELECT with `bucket_expr` (a SQL expression of `ts`) as `bucket`."""
        keys = ", ".join(self.keys)
        return (
            f"SELECT {keys}, {bucket_expr} AS bucket,\n           {self.values}\n"
            f"    FROM {self.source}\n    WHERE {self.where}\n"
            f"    GROUP BY {keys}, {bucket_expr}"
        )

    @property
    def unique_columns(self) -> str:
        return ", ".join((*self.keys, "bucket"))


def _pair(base: str, source: str, keys: tuple[str, ...], values: str, where: str):
    return [Aggregate(f"{base}_hourly", source, keys, values, where, False),
            Aggregate(f"{base}_daily", source, keys, values, where, True)]


AGGREGATES: list[Aggregate] = [
    *_pair("grain", "grain_readings", ("depot", "granary", "cable", "layer"), _GRAIN_VALUES,
           _GRAIN_WHERE),
    *_pair("grain_layer", "grain_readings", ("depot", "granary", "layer"), _GRAIN_VALUES,
           _GRAIN_WHERE),
    *_pair("air", "air_readings", ("depot", "granary", "place"), _AIR_VALUES, _AIR_WHERE),
]

READING_TABLES = ("grain_readings", "air_readings")
GRAIN_AGGREGATES = tuple(a.name for a in AGGREGATES if a.source == "grain_readings")


def quote_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
