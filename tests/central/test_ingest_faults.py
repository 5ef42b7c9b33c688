"""Ingest under bad input and failures: malformed payloads, a database outage, two workers."""

from __future__ import annotations

import copy
import json
from collections import Counter
from datetime import timedelta

import psycopg
import pytest

from central.db.migrate import migrate
from central.ingest.prepare import prepare
from central.ingest.worker import IngestWorker
from central.metrics import INGEST_DB_ERRORS
from tests.central.ingest_support import (
    Publisher,
    encode,
    event,
    layout,
    now_utc,
    scalar,
    settings_for,
    status,
    telemetry,
    unique_depot,
    wait_for,
)
from tests.support import services


def topic(depot: str, kind: str) -> str:
    return f"grainlink/v1/{depot}/{kind}"


def malformed(depot: str, i: int) -> tuple[str, bytes]:
    """Bad payload number i (many kinds, cycling), on one of the depot's topics."""
    good = telemetry(depot, 100000 + i)
    t = topic(depot, "telemetry")

    def mutate(fn) -> bytes:
        body = copy.deepcopy(good)
        fn(body)
        return encode(body)

    kinds = [
        lambda: (t, b"{not json"),
        lambda: (t, b""),
        lambda: (t, b"\xff\xfe\x00garbage"),
        lambda: (t, b"[1, 2, 3]"),
        lambda: (t, encode({**good, "schema": "grainlink.telemetry/9"})),
        lambda: (t, encode({**good, "schema": "grainlink.layout/1"})),
        lambda: (t, encode({**good, "depot": "OTHER-DEPOT"})),
        lambda: (t, encode(good).replace(b"14.6", b"NaN", 1)),
        lambda: (t, mutate(lambda b: b["grain"][0].update(temps_c=[1.0] * 100000))),
        lambda: (t, mutate(lambda b: b.update(grain=[b["grain"][0]] * 6000))),
        lambda: (t, mutate(lambda b: b.update(batch="seven"))),
        lambda: (t, mutate(lambda b: b.update(batch=-1))),
        lambda: (t, mutate(lambda b: b.update(batch=2**70))),
        lambda: (t, mutate(lambda b: b["grain"][0].update(cable=0))),
        lambda: (t, mutate(lambda b: b["grain"][0].update(temps_c="hot"))),
        lambda: (t, mutate(lambda b: b["grain"][0].update(temps_c=[500.0]))),
        lambda: (t, mutate(lambda b: b["grain"][0].update(faults=[1]))),
        lambda: (t, mutate(lambda b: b["grain"][0].update(ts="2026-11-22 08:00:00"))),
        lambda: (t, mutate(lambda b: b["grain"][0].update(ts="2026-11-22T08:00:00+08:00"))),
        lambda: (t, mutate(lambda b: b.update(extra=1))),
        lambda: (t, mutate(lambda b: b.pop("sent_at"))),
        lambda: (t, mutate(lambda b: b.update(grain=[], air=[]))),
        lambda: (t, mutate(lambda b: b["air"][1].update(granary="P01"))),
        lambda: (t, mutate(lambda b: b["air"][0].update(rh_pct=101))),
        lambda: (t, b'{"schema": "grainlink.telemetry/1", "schema": "x"}'),
        lambda: (t, b"[" * 100000 + b"]" * 100000),
        lambda: (t, b"x" * (300 * 1024)),
        lambda: (topic(depot, "layout"), mutate(lambda b: b.update(schema="grainlink.layout/1"))),
        lambda: (topic(depot, "status"), encode({**status(depot), "state": "sleeping"})),
        lambda: (topic(depot, "events"), encode({**event(depot), "kind": "explosion"})),
        lambda: (topic(depot, "events"), encode({**event(depot, subject=f"bus\x00{i}")})),
        lambda: (t, encode(good).replace(b"17.9", b"1e400", 1)),
        lambda: (topic(depot, "layout"), encode({**layout(depot), "granaries": "none"})),
    ]
    return kinds[i % len(kinds)]()


def test_prepare_never_raises_and_names_the_problem():
    depot = unique_depot()
    reasons = Counter()
    for i in range(64):
        t, payload = malformed(depot, i)
        item = prepare(t, payload, now_utc())
        assert not item.ok, (i, payload[:80])
        assert str(item.error)
        reasons[str(item.error).split(":")[0]] += 1
    assert len(reasons) > 15  # many different reasons, not one generic one


@pytest.fixture
def db(database_url):
    migrate(database_url)
    return database_url


def test_a_thousand_malformed_payloads_are_dead_lettered_while_good_ones_ingest(db,
                                                                                private_broker):
    worker = IngestWorker(settings_for(db, private_broker.url))
    worker.start()
    pub = Publisher(private_broker.url)
    try:
        assert worker.ready.wait(10)
        depot = unique_depot("BAD")
        for i in range(1000):
            t, payload = malformed(depot, i)
            pub.publish(t, payload)
            if i % 20 == 0:
                n = i // 20 + 1
                pub.publish(topic(depot, "telemetry"),
                            telemetry(depot, n, at=now_utc() - timedelta(minutes=n)))
        pub.flush(60)
        q = "SELECT count(*) FROM dead_letters WHERE depot = %s OR topic LIKE %s"
        args = (depot, f"%{depot}%")
        assert wait_for(lambda: scalar(db, q, args), 1000, timeout=60) == 1000
        assert wait_for(lambda: scalar(db, "SELECT count(*) FROM batches WHERE depot = %s",
                                       (depot,)), 50) == 50
        assert scalar(db, "SELECT count(*) FROM grain_readings WHERE depot = %s", (depot,)) == 400
        with psycopg.connect(db) as conn:
            reasons = [r[0] for r in conn.execute(
                "SELECT DISTINCT reason FROM dead_letters WHERE topic LIKE %s", (f"%{depot}%",))]
            payload = conn.execute("SELECT payload FROM dead_letters WHERE topic LIKE %s "
                                   "ORDER BY id LIMIT 1", (f"%{depot}%",)).fetchone()[0]
        assert len(reasons) > 20 and all(reasons)
        assert any(r.startswith("depot: ") and "与主题中的库点" in r for r in reasons)
        assert bytes(payload) == b"{not json"  # kept as received
        assert worker.pending() == 0
    finally:
        pub.close()
        worker.stop()


def test_database_outage_loses_nothing(private_broker, tmp_path):
    pg = services.start_private_postgres()
    try:
        url = pg.url
        migrate(url)
        settings = settings_for(url, private_broker.url)
        worker = IngestWorker(settings)
        worker.start()
        pub = Publisher(private_broker.url)
        depot = unique_depot("OUT")
        base = now_utc() - timedelta(days=3)
        batch = 0

        def send(n: int) -> None:
            nonlocal batch
            for _ in range(n):
                batch += 1
                pub.publish(topic(depot, "telemetry"),
                            telemetry(depot, batch, at=base + timedelta(minutes=batch), air=False))
            pub.flush(60)

        try:
            assert worker.ready.wait(10)
            send(200)
            pg.stop()          # mid-stream: some of the first 200 may still be uncommitted
            with pytest.raises(psycopg.OperationalError):
                psycopg.connect(url, connect_timeout=2)
            errors_before = INGEST_DB_ERRORS.value()
            send(1500)         # more than mosquitto's default max_queued_messages (1000)
            assert wait_for(lambda: INGEST_DB_ERRORS.value() > errors_before, True) is True
            assert worker.pending() > 0  # held, not acknowledged
            # a new worker process (same client id) takes over the persistent session while
            # the database is still down
            worker.stop()
            worker = IngestWorker(settings)
            worker.start()
            send(100)
            pg.start()
            q = "SELECT count(*) FROM batches WHERE depot = %s"
            assert wait_for(lambda: scalar(url, q, (depot,)), 1800, timeout=90) == 1800
            assert scalar(url, "SELECT count(*) FROM grain_readings WHERE depot = %s",
                          (depot,)) == 1800 * 8
            assert scalar(url, "SELECT count(*) FROM batch_gaps WHERE depot = %s", (depot,)) == 0
        finally:
            pub.close()
            worker.stop()
    finally:
        pg.stop("immediate")


def test_two_workers_on_a_shared_subscription_store_every_reading_once(db, private_broker):
    workers = [IngestWorker(settings_for(db, private_broker.url, ingest_shared_subscription=True))
               for _ in range(2)]
    for w in workers:
        w.start()
    pub = Publisher(private_broker.url)
    try:
        for w in workers:
            assert w.ready.wait(10)
        depots = [unique_depot("SH") for _ in range(4)]
        for d in depots:
            pub.publish(topic(d, "layout"), layout(d), retain=True)
        for b in range(1, 101):
            for d in depots:
                pub.publish(topic(d, "telemetry"),
                            telemetry(d, b, at=now_utc() - timedelta(minutes=b)))
        pub.flush(60)
        q = "SELECT count(*) FROM grain_readings WHERE depot = ANY(%s)"
        assert wait_for(lambda: scalar(db, q, (depots,)), 400 * 8, timeout=60) == 3200
        assert scalar(db, "SELECT count(*) FROM batches WHERE depot = ANY(%s)", (depots,)) == 400
        assert scalar(db, "SELECT max(deliveries) FROM batches WHERE depot = ANY(%s)",
                      (depots,)) == 1
        assert scalar(db, "SELECT count(*) FROM depots WHERE code = ANY(%s) AND name IS NOT NULL",
                      (depots,)) == 4
        shares = [w.totals.grain_rows for w in workers]
        assert all(s > 0 for s in shares), shares  # both did part of the work
    finally:
        pub.close()
        for w in workers:
            w.stop()


def test_rows_the_database_refuses_are_dead_lettered_alone(db):
    depot = unique_depot("REF")
    good = prepare(topic(depot, "telemetry"), encode(telemetry(depot, 1)), now_utc())
    bad = prepare(topic(depot, "telemetry"), encode(telemetry(depot, 2)), now_utc())
    bad.grain_copy = bad.grain_copy.replace(b"\t1460\t", b"\tnot a number\t", 1)
    worker = IngestWorker(settings_for(db, "mqtt://127.0.0.1:1"))
    try:
        worker._store([good, bad])
    finally:
        worker.stop(timeout=1)
    assert scalar(db, "SELECT count(*) FROM grain_readings WHERE depot = %s", (depot,)) == 8
    reason = scalar(db, "SELECT reason FROM dead_letters WHERE depot = %s", (depot,))
    assert reason.startswith("database refused:") and "not a number" in reason


def test_json_payload_examples_are_valid():
    # the helper payloads are themselves valid contract messages
    d = unique_depot()
    for kind, body in (("telemetry", telemetry(d, 1)), ("layout", layout(d)),
                       ("status", status(d)), ("events", event(d))):
        assert prepare(topic(d, kind), json.dumps(body).encode(), now_utc()).ok, kind


def test_broker_restart_mid_stream_loses_nothing(db, private_broker):
    settings = settings_for(db, private_broker.url)
    worker = IngestWorker(settings)
    worker.start()
    depot = unique_depot("BRK")
    try:
        assert worker.ready.wait(10)
        pub = Publisher(private_broker.url)
        for b in range(1, 301):
            pub.publish(topic(depot, "telemetry"),
                        telemetry(depot, b, at=now_utc() - timedelta(minutes=b), air=False))
        pub.flush(30)
        pub.close()
        private_broker.stop()      # some of them are still unacknowledged in the worker
        private_broker.start()
        assert wait_for(lambda: worker.ready.is_set(), True, timeout=30)
        pub = Publisher(private_broker.url)
        for b in range(301, 401):
            pub.publish(topic(depot, "telemetry"),
                        telemetry(depot, b, at=now_utc() - timedelta(minutes=b), air=False))
        pub.flush(30)
        pub.close()
        q = "SELECT count(*) FROM batches WHERE depot = %s"
        assert wait_for(lambda: scalar(db, q, (depot,)), 400, timeout=60) == 400
        assert scalar(db, "SELECT count(*) FROM grain_readings WHERE depot = %s",
                      (depot,)) == 400 * 8
    finally:
        worker.stop()
