"""What each column of `grain_readings` costs once TimescaleDB has compressed it, and what a
layout change would save: the measurement behind the table layout (README "Storage paths").

It loads `--granaries` granaries of the month of `storage_per_reading.py` (same grain-pile
model, same 0.1 °C quantisation) once into a staging table holding every candidate column,
then for each variant builds a hypertable of daily chunks with that variant's columns,
compresses it chunk by chunk in time order with the variant's roll-up (as the policy would)
and prints bytes per reading: the whole hypertable, and each column of the compressed chunks
(`pg_column_size` of the stored, compressed values; segmentby columns and the batch metadata
are listed as they are stored).

    .venv/bin/python bench/storage_columns.py --timescale-url postgresql://127.0.0.1:PORT/postgres
        [--granaries 5 --days 30]
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg  # noqa: E402

from bench.storage_per_reading import DEPOT, scans  # noqa: E402
from tests.support.services import scratch_database  # noqa: E402

STAGING = """CREATE TABLE staging (
    depot text, granary text, cable integer, layer integer, ts timestamptz,
    temp_c real, temp_x100 smallint, fault boolean, batch bigint, flags smallint,
    received_at timestamptz)"""

KEY = "depot text NOT NULL, granary text NOT NULL, cable integer NOT NULL, " \
      "layer integer NOT NULL, ts timestamptz NOT NULL"
# name -> (value columns with types, roll-up days, sparse_index: None = TimescaleDB's default
# (2.28: a bloom filter over the key's cable, layer, ts), "minmax(ts)" = no bloom, as migrated now)
ORDER = "cable, layer, ts DESC"
EVERY = ("temp_c real, fault boolean NOT NULL, batch bigint, flags smallint NOT NULL, "
         "received_at timestamptz NOT NULL")
X100 = "temp_x100 smallint, fault boolean NOT NULL, batch bigint, flags smallint NOT NULL"
VARIANTS: dict[str, tuple[str, int, str | None]] = {
    "before 0060: real, received_at, default sparse index, 7 d": (EVERY, 7, None),
    "x100, received_at, default sparse index, 7 d": (
        X100 + ", received_at timestamptz NOT NULL", 7, None),
    "x100, default sparse index, 7 d": (X100, 7, None),
    "before 0060 columns, no bloom, 7 d": (EVERY, 7, "minmax(ts)"),
    "x100, no bloom, 7 d": (X100, 7, "minmax(ts)"),
    "x100, no bloom, 14 d": (X100, 14, "minmax(ts)"),
    "x100, no bloom, 30 d": (X100, 30, "minmax(ts)"),
}


def load_staging(conn, granaries: int, days: int) -> int:
    conn.execute(STAGING)
    n = 0
    with conn.cursor() as cur, cur.copy("COPY staging FROM STDIN") as copy:
        for granary, ts, batch, temps in scans(granaries, days, 1.0):
            recv = ts + timedelta(seconds=7)
            for cable, layers in temps.items():
                for layer, v in enumerate(layers, 1):
                    copy.write_row((DEPOT, granary, cable, layer, ts, v, round(v * 100),
                                    False, batch, 0, recv))
                    n += 1
    return n


def build(conn, name: str, values: str, rollup: int, sparse: str | None) -> None:
    cols = [c.split()[0] for c in values.split(", ")]
    conn.execute(f"DROP TABLE IF EXISTS {name}")
    conn.execute(f"CREATE TABLE {name} ({KEY}, {values}, "
                 "PRIMARY KEY (depot, granary, cable, layer, ts))")
    conn.execute(f"SELECT create_hypertable('{name}', 'ts', "
                 "chunk_time_interval => INTERVAL '1 day')")
    conn.execute(f"ALTER TABLE {name} SET (timescaledb.compress, "
                 "timescaledb.compress_segmentby = 'depot, granary', "
                 f"timescaledb.compress_orderby = '{ORDER}', "
                 f"timescaledb.compress_chunk_time_interval = '{rollup} days')")
    if sparse is not None:
        conn.execute(f"ALTER TABLE {name} SET (timescaledb.sparse_index = '{sparse}')")
    names = ", ".join(["depot", "granary", "cable", "layer", "ts", *cols])
    conn.execute(f"INSERT INTO {name} ({names}) SELECT {names} FROM staging ORDER BY ts")
    conn.execute(f"SELECT count(compress_chunk(c)) FROM show_chunks('{name}') c")
    conn.execute(f"VACUUM ANALYZE {name}")


def column_bytes(conn, name: str) -> dict[str, int]:
    chunks = [r[0] for r in conn.execute(
        """SELECT format('%%I.%%I', cc.schema_name, cc.table_name)
           FROM _timescaledb_catalog.chunk ch
           JOIN _timescaledb_catalog.chunk cc ON cc.id = ch.compressed_chunk_id
           JOIN _timescaledb_catalog.hypertable h ON h.id = ch.hypertable_id
           WHERE h.table_name = %s""", (name,)).fetchall()]
    out: dict[str, int] = {}
    for chunk in chunks:
        cols = [r[0] for r in conn.execute(
            "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0 "
            "AND NOT attisdropped", (chunk,)).fetchall()]
        sums = conn.execute("SELECT " + ", ".join(
            f'coalesce(sum(pg_column_size("{c}")), 0)' for c in cols) + f" FROM {chunk}"
        ).fetchone()
        for c, s in zip(cols, sums, strict=True):
            out[c] = out.get(c, 0) + int(s)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--timescale-url", required=True)
    ap.add_argument("--granaries", type=int, default=5)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--only", action="append", help="variant names to run (default: all)")
    args = ap.parse_args()
    with scratch_database(args.timescale_url, prefix="grainlink_bench_cols") as url, \
            psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS timescaledb")
        t0 = time.perf_counter()
        n = load_staging(conn, args.granaries, args.days)
        print(f"{n:,} readings staged in {time.perf_counter() - t0:.0f} s "
              f"({args.granaries} granaries, {args.days} days, hourly scans)", flush=True)
        for i, (label, (values, rollup, sparse)) in enumerate(VARIANTS.items()):
            if args.only and not any(o in label for o in args.only):
                continue
            name = f"v{i}"
            t0 = time.perf_counter()
            build(conn, name, values, rollup, sparse)
            total = conn.execute(f"SELECT hypertable_size('{name}')").fetchone()[0]
            cols = column_bytes(conn, name)
            data = sum(cols.values())
            print(f"\n{label}: {total / n:.2f} B/reading in all, {data / n:.2f} in column "
                  f"values ({time.perf_counter() - t0:.0f} s)")
            for c, b in sorted(cols.items(), key=lambda kv: -kv[1]):
                if b / n >= 0.005:
                    print(f"    {c:28s} {b / n:6.3f} B/reading")
            conn.execute(f"DROP TABLE {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
