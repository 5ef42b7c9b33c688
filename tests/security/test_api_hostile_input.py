"""Issue 16 item 5: nothing a client sends is a 500. Hypothesis draws hostile bodies for
every write operation of the app's OpenAPI document, hostile query values for every read,
and hostile path segments for every operation, sent by a write user of city A against its
own ids (so they get past the scope checks to the validation and the database). Every
answer is below 500, a JSON `{"detail": text}` when refused, and holds nothing of city B."""

from __future__ import annotations

import json
import os
import re
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from central.settings import Settings
from central.wiring import build_app
from tests.security.api_requests import (
    PATH_SEGMENTS,
    QUERY_VALUES,
    Tally,
    fill_path,
    hostile_body,
    operations,
    valid_query,
)
from tests.security.api_world import open_world

# Built without a database: generating the document opens no connection.
OPS = operations(build_app(Settings()).openapi())
WRITES = [op for op in OPS if op.body is not None]
EXAMPLES = int(os.environ.get("GRAINLINK_SECURITY_EXAMPLES", "20"))
TALLY = Tally()
_HYPOTHESIS = settings(max_examples=EXAMPLES, deadline=None, database=None,
                       suppress_health_check=list(HealthCheck))


@pytest.fixture(scope="module")
def world(database_url):
    yield from open_world(database_url)
    print(f"\nhostile input: {TALLY.requests} requests, {TALLY.leaks} leaks, "
          f"{TALLY.server_errors} server errors, statuses {sorted(TALLY.statuses.items())}")
    report = os.environ.get("GRAINLINK_SECURITY_REPORT")
    if report:
        with open(report, "a", encoding="utf-8") as f:
            f.write(json.dumps({"suite": "api-hostile", **TALLY.__dict__}) + "\n")


_UNSAFE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")


def check(w, r, what: str) -> None:
    TALLY.note(r.status_code)
    leaked = w.leak_marker in r.text
    TALLY.leaks += leaked
    assert r.status_code < 500, f"{what}: {r.status_code} {r.text[:300]}"
    assert not leaked, f"{what}: city B's data in {r.text[:300]}"
    if r.status_code >= 400 and r.status_code != 405:
        detail = r.json()["detail"]
        assert isinstance(detail, str) and detail, f"{what}: detail {detail!r}"
        assert not _UNSAFE.search(detail), f"{what}: echoes a control or surrogate: {detail!r}"


def _query(params: dict) -> str:
    """Percent-encoded as a client may send it: a lone surrogate as its (invalid) UTF-8 bytes."""
    return "&".join(f"{quote(str(k))}={quote(str(v).encode('utf-8', 'surrogatepass'), safe='')}"
                    for k, v in params.items())


def _id(op) -> str:
    return f"{op.method} {op.path}"


@pytest.mark.parametrize("op", WRITES, ids=_id)
def test_hostile_bodies(world, op):
    w = world
    path = fill_path(op, w.ids["A"])
    headers = {**w.headers("city_a"), "Content-Type": "application/json"}

    @_HYPOTHESIS
    @given(body=hostile_body(op, w.ids["A"]))
    def attack(body: bytes) -> None:
        r = w.client.request(op.method, path, content=body, headers=headers)
        check(w, r, f"{op.method} {path} {body[:120]!r}")

    attack()


READS = [op for op in OPS if op.method == "GET"]


@pytest.mark.parametrize("op", READS, ids=_id)
def test_hostile_queries(world, op):
    w = world
    path = fill_path(op, w.ids["A"])
    names = [name for name, _schema in op.query] or ["x"]
    base = valid_query(op, w.ids["A"])

    @_HYPOTHESIS
    @given(params=st.dictionaries(st.sampled_from(names), QUERY_VALUES, min_size=1,
                                  max_size=3))
    def attack(params: dict) -> None:
        r = w.client.get(f"{path}?{_query({**base, **params})}", headers=w.headers("city_a"))
        check(w, r, f"GET {path} {params!r:.200}")

    attack()


@pytest.mark.parametrize("op", [op for op in OPS if op.params], ids=_id)
def test_hostile_path_segments(world, op):
    w = world

    @_HYPOTHESIS
    @given(name=st.sampled_from(op.params), segment=PATH_SEGMENTS)
    def attack(name: str, segment: str) -> None:
        path = fill_path(op, {**w.ids["A"], name: segment})
        r = w.client.request(op.method, path, headers={**w.headers("city_a"),
                                                        "Content-Type": "application/json"},
                             content=b"{}" if op.writes else None)
        check(w, r, f"{op.method} {path:.200}")

    attack()


@pytest.mark.parametrize(("body", "status", "names"), [
    (b'{"date": "2026-11-01", "pests_per_kg": NaN, "major_per_kg": 0}', 422, "pests_per_kg"),
    (b'{"date": "2026-11-01", "pests_per_kg": Infinity, "major_per_kg": 0}', 422, "pests_per_kg"),
    (b'{"date": "2026-11-01", "pests_per_kg": 1, "major_per_kg": 0, "species": ["a\\u0000"]}',
     422, "species"),
    (b'{"date": "2026-11-01", "pests_per_kg": 1, "major_per_kg": 0, "species": ["\\ud800"]}',
     422, "species"),
    (b'{"date": "9999-12-31", "pests_per_kg": 1, "major_per_kg": 0}', 422, "date"),
    (b'{"date": "0001-01-01", "pests_per_kg": 1, "major_per_kg": 0}', 422, "date"),
    (b'{"date": "2099-01-01", "pests_per_kg": 1, "major_per_kg": 0}', 422, "date"),
    (b'{"date": "2026-11-01", "pests_per_kg": 1, "major_per_kg": 0, "x\\u0000": 1}', 422, "x"),
    (b'\xff\xfe{"date": 1}', 400, "UTF-8"),
    (b'{"date": "2026-11-01", "pests_per_kg": "\xe7\xb2", "major_per_kg": 0}', 400, "UTF-8"),
])
def test_each_cause_of_issue_16_is_a_4xx_naming_the_field(world, body, status, names):
    w = world
    r = w.client.post(f"/api/v1/depots/{w.a}/granaries/P01/inspections", content=body,
                      headers={**w.headers("city_a"), "Content-Type": "application/json"})
    check(w, r, repr(body))
    assert r.status_code == status and names in r.json()["detail"], r.text


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity", "1e308", "-1e308", "1e999",
                                   '{"low": NaN}', '{"low": 1e308}', '"\\u0000"'])
def test_thresholds_take_only_values_of_their_meaning(world, value):
    w = world
    key = "grain_temp_max_c" if value.startswith("{") else "hotspot_alarm_delta_c"
    body = f'{{"{key}": {value}}}'.encode()
    for path in (f"/api/v1/depots/{w.a}/thresholds",
                 f"/api/v1/depots/{w.a}/granaries/P01/thresholds"):
        r = w.client.put(path, content=body, headers={**w.headers("city_a"),
                                                      "Content-Type": "application/json"})
        check(w, r, f"{path} {body!r}")
        assert r.status_code == 422 and key in r.json()["detail"], r.text
    effective = w.client.get(f"/api/v1/depots/{w.a}/thresholds",
                             headers=w.headers("city_a")).json()["effective"]
    assert effective["hotspot_alarm_delta_c"] == 5.0  # nothing was stored


@pytest.mark.parametrize(("path", "params", "names"), [
    ("/granaries/P01/history", {"to": "0001-01-01T00:00:00Z"}, "to"),
    ("/granaries/P01/history", {"from": "9999-12-31T00:00:00Z"}, "from"),
    ("/granaries/P01/history", {"to": "9999-12-31"}, "to"),
    ("/granaries/P01/report", {"from": "0001-01-01"}, "from"),
    ("/granaries/P01/report", {"from": "9999-12-31"}, "from"),
    ("/granaries/P01/report", {"from": "2026-11-01", "format": "x\x00"}, "format"),
    ("/granaries/P01/latest", {"x": "\x00"}, "x"),
    ("/cameras/1/stills", {"to": "0001-01-01T00:00:00Z"}, "to"),  # overflowed to a 500
    ("/cameras/1/stills", {"from": "9999-12-31T00:00:00Z"}, "from"),
])
def test_far_dates_and_nul_in_queries_are_422(world, path, params, names):
    w = world
    r = w.client.get(f"/api/v1/depots/{w.a}{path}", params=params, headers=w.headers("city_a"))
    check(w, r, f"{path} {params}")
    assert r.status_code == 422 and names in r.json()["detail"], r.text


def test_alarm_filters_with_nul_or_far_dates_are_422(world):
    w = world
    for params in ({"depot": "A\x00"}, {"rule": "\x00"}, {"since": "0001-01-01T00:00:00Z"},
                   {"since": "9999-12-31T23:59:59Z"}):
        r = w.client.get("/api/v1/alarms", params=params, headers=w.headers("city_a"))
        check(w, r, str(params))
        assert r.status_code == 422, r.text


def test_nul_in_a_path_segment_is_a_4xx(world):
    w = world
    for path in (f"/api/v1/depots/{w.a}%00", "/api/v1/lots/L%00x", "/api/v1/alarms/1%00",
                 f"/api/v1/depots/{w.a}/granaries/P%0001/latest", "/api/v1/batches/%00"):
        r = w.client.get(path, headers=w.headers("city_a"))
        check(w, r, path)
        assert 400 <= r.status_code < 500
