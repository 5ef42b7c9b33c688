"""Migrations (real PostgreSQL), storage statements, settings, jobs."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from central import jobs
from central.db import storage, timescale
from central.db.migrate import STORAGE_VERSION, MigrationError, discover, migrate
from central.settings import Settings, SettingsError, load_settings
from central.wiring import scheduled_jobs, start_scheduler
from tests.support import services

CORE_TABLES = ("depots", "granaries", "cables", "grain_readings", "air_readings",
               "depot_status", "batches", "events", "dead_letters", "schema_migrations")
AGGREGATES = ("grain_hourly", "grain_daily", "grain_layer_hourly", "grain_layer_daily",
              "air_hourly", "air_daily")


@pytest.fixture
def fresh_db(database_server_url):
    with services.scratch_database(database_server_url, prefix="grainlink_mig") as url:
        yield url


@pytest.fixture
def offered(fresh_db) -> str:
    """The storage path this server offers: the tests check what that path promises."""
    with psycopg.connect(fresh_db) as conn:
        return "plain" if storage.timescale_problem(conn) else "timescale"


def test_migrate_creates_schema_and_second_run_is_a_no_op(fresh_db, offered):
    done = migrate(fresh_db)
    assert done[0] == "0001_core" and done[-1] == f"storage_{offered}"
    with psycopg.connect(fresh_db) as conn:
        for name in CORE_TABLES + AGGREGATES:
            assert conn.execute("SELECT to_regclass(%s)", (name,)).fetchone()[0] is not None, name
        before = conn.execute("SELECT version, checksum, applied_at FROM schema_migrations "
                              "ORDER BY version").fetchall()
    assert migrate(fresh_db) == []
    with psycopg.connect(fresh_db) as conn:
        after = conn.execute("SELECT version, checksum, applied_at FROM schema_migrations "
                             "ORDER BY version").fetchall()
    assert after == before
    assert [v for v, _, _ in after][-1] == STORAGE_VERSION


def test_concurrent_migrations_take_turns(fresh_db):
    results, errors = [], []

    def run():
        try:
            results.append(migrate(fresh_db))
        except Exception as exc:  # pragma: no cover - the assertion below reports it
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert sorted(len(r) > 0 for r in results) == [False, False, True]


def test_changed_storage_settings_rerun_the_storage_step(fresh_db, offered):
    migrate(fresh_db)
    if offered == "plain":  # the views hold only derived data: rebuilt in the new zone
        changed = Settings(day_timezone="UTC")
        query, expect = "SELECT pg_get_viewdef('grain_daily')", "'UTC'"
    else:  # a continuous aggregate is never rebuilt by migrate; its policies follow settings
        changed = Settings(compress_after_days=3)
        query = ("SELECT config::text FROM timescaledb_information.jobs "
                 "WHERE proc_name = 'policy_compression' AND hypertable_name = 'grain_readings'")
        expect = "3 days"
    assert migrate(fresh_db, changed) == [f"storage_{offered}"]
    assert migrate(fresh_db, changed) == []
    with psycopg.connect(fresh_db) as conn:
        definition = conn.execute(query).fetchone()[0]
    assert expect in definition and "Asia/Shanghai" not in definition


def test_badly_named_migration_file_is_refused(tmp_path):
    (tmp_path / "0001_ok.sql").write_text("SELECT 1;")
    (tmp_path / "1_bad.sql").write_text("SELECT 1;")
    with pytest.raises(MigrationError, match="1_bad.sql"):
        discover(tmp_path)


def test_failing_migration_names_its_file_and_is_not_recorded(fresh_db, tmp_path):
    (tmp_path / "0001_good.sql").write_text("CREATE TABLE t_good (x int);")
    (tmp_path / "0002_broken.sql").write_text("CREATE TABLE t_bad (x nosuchtype);")
    with pytest.raises(MigrationError, match="0002_broken.sql"):
        migrate(fresh_db, directory=tmp_path)
    with psycopg.connect(fresh_db) as conn:
        versions = [r[0] for r in conn.execute("SELECT version FROM schema_migrations")]
        assert versions == [1]
        assert conn.execute("SELECT to_regclass('t_bad')").fetchone()[0] is None


def test_timescale_statements_cover_hypertables_policies_and_aggregates():
    sql = "\n".join(timescale.timescale_statements(Settings(raw_retention_days=365)))
    for table in ("grain_readings", "air_readings"):
        assert f"create_hypertable('{table}', 'ts'" in sql
        assert f"add_compression_policy('{table}', INTERVAL '7 days')" in sql
        assert f"add_retention_policy('{table}', INTERVAL '365 days')" in sql
        assert (f"ALTER TABLE {table} SET (timescaledb.compress_chunk_time_interval = "
                "'7 days')") in sql
    for name in AGGREGATES:
        assert f"CREATE MATERIALIZED VIEW IF NOT EXISTS {name}\nWITH (timescaledb.continuous" in sql
        assert f"add_continuous_aggregate_policy('{name}'" in sql
    assert "time_bucket(INTERVAL '1 day', ts, 'Asia/Shanghai')" in sql
    no_retention = "\n".join(timescale.timescale_statements(Settings()))
    assert "add_retention_policy" not in no_retention


def test_aggregates_and_jobs(fresh_db, offered):
    migrate(fresh_db)
    t = datetime(2026, 11, 21, 16, 30, tzinfo=UTC)  # 00:30 on the 22nd in Asia/Shanghai
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        rows = [("D1", "P01", 1, 1, t, 1000, False, 0), ("D1", "P01", 2, 1, t, 1401, False, 0),
                ("D1", "P01", 3, 1, t, None, True, 0),
                ("D1", "P01", 1, 1, t - timedelta(hours=1), 9900, False, 1)]
        conn.cursor().executemany(
            "INSERT INTO grain_readings (depot, granary, cable, layer, ts, temp_x100, fault, "
            "flags) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s)", rows)
        conn.execute("INSERT INTO depots (code, state, last_seen) VALUES "
                     "('D1', 'online', now() - interval '5 hours'), "
                     "('D2', 'online', now())")
        settings = Settings(database_url=fresh_db)
        # The job refreshes plain views; TimescaleDB refreshes by its own policies.
        by_job = jobs.refresh_aggregates(conn, settings)
        assert ("grain_layer_hourly" in by_job) == (offered == "plain")
        assert "grain_layer_hourly" in storage.refresh_aggregates(conn)
        layer = conn.execute("SELECT bucket, temp_min, temp_max, temp_mean, n "
                             "FROM grain_layer_hourly WHERE depot = 'D1'").fetchall()
        # °C from hundredths: 10.00 and 14.01, mean 12.005 (no float4 on the way)
        assert layer == [(datetime(2026, 11, 21, 16, tzinfo=UTC), 10.0, 14.01, 12.005, 2)]
        day = conn.execute("SELECT bucket FROM grain_layer_daily WHERE depot = 'D1'").fetchone()
        assert day[0] == datetime(2026, 11, 21, 16, tzinfo=UTC)  # local midnight, in UTC
        assert jobs.mark_offline(conn, settings) == ["D1"]
    assert jobs.run_job(settings, "mark_offline", jobs.mark_offline) == []
    with psycopg.connect(fresh_db) as conn:
        assert conn.execute("SELECT last_ok FROM job_runs WHERE job = 'mark_offline'"
                            ).fetchone() == (True,)


def test_settings_from_file_and_environment(tmp_path):
    f = tmp_path / "central.yaml"
    f.write_text("mqtt_url: mqtt://broker.example:1884\ningest_batch_messages: 50\n")
    s = load_settings(f, env={"GRAINLINK_INGEST_BATCH_MESSAGES": "70",
                              "GRAINLINK_DATABASE_URL": "postgresql://db/x"})
    assert (s.mqtt_host, s.mqtt_port, s.ingest_batch_messages) == ("broker.example", 1884, 70)
    assert s.database_url == "postgresql://db/x"
    default = load_settings(env={})
    assert default.database_url == "postgresql://127.0.0.1:5432/test"
    assert default.mqtt_url == "mqtt://127.0.0.1:1883"
    assert default.compress_after_days == 7


def test_settings_errors_name_setting_file_and_line(tmp_path):
    f = tmp_path / "central.yaml"
    f.write_text("mqtt_url: mqtt://b:1\nbatch_sise: 3\n")
    with pytest.raises(SettingsError, match=r"'batch_sise' \(line 2\)"):
        load_settings(f, env={})
    f.write_text("ingest_batch_messages: zero\n")
    with pytest.raises(SettingsError, match=r"ingest_batch_messages \(settings file .*line 1\)"):
        load_settings(f, env={})
    with pytest.raises(SettingsError, match="GRAINLINK_DAY_TIMEZONE"):
        load_settings(env={"GRAINLINK_DAY_TIMEZONE": "Mars/Olympus"})
    with pytest.raises(SettingsError, match="settings file"):
        load_settings(tmp_path / "missing.yaml", env={})


def test_scheduler_runs_every_job_of_the_service(database_url):
    migrate(database_url)
    names = set(scheduled_jobs())
    assert {"refresh_aggregates", "mark_offline", "apply_retention", "alarm_time_rules",
            "alarm_daily_rules", "stock_rules", "stills_retention"} <= names
    scheduler = start_scheduler(Settings(database_url=database_url))
    try:
        assert {j.id for j in scheduler.get_jobs()} == names
    finally:
        scheduler.shutdown(wait=False)
    assert jobs.run_job(Settings(database_url=database_url), "apply_retention",
                        scheduled_jobs()["apply_retention"].fn) == {
        "dead_letters": 0, "depot_commands": 0}


def test_a_role_that_may_not_read_the_preload_setting_still_migrates(fresh_db):
    """Deployments migrate as the service's own role, which may not read
    shared_preload_libraries: the probe must answer (plain or timescale), never raise."""
    role = f"grainlink_lowpriv_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(fresh_db, autocommit=True) as admin:
        admin.execute(f'CREATE ROLE "{role}" LOGIN')
        admin.execute(f'GRANT ALL ON SCHEMA public TO "{role}"')
        admin.execute(f'GRANT CREATE ON DATABASE "{psycopg.conninfo.conninfo_to_dict(fresh_db)["dbname"]}" TO "{role}"')
    try:
        url = psycopg.conninfo.make_conninfo(fresh_db, user=role)
        with psycopg.connect(url) as conn:
            assert conn.execute("SELECT count(*) FROM pg_settings "
                                "WHERE name = 'shared_preload_libraries'").fetchone()[0] == 0
            storage.timescale_problem(conn)            # raised InsufficientPrivilege before
            assert conn.execute("SELECT 1").fetchone() == (1,)   # the session is still usable
        migrate(url, Settings())
        with psycopg.connect(url) as conn:
            assert storage.recorded_path(conn) in {"plain", "timescale"}
    finally:
        with psycopg.connect(fresh_db, autocommit=True) as admin:
            admin.execute(f'DROP OWNED BY "{role}"')
            admin.execute(f'DROP ROLE "{role}"')
