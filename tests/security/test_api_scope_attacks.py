"""Issue 16, API side: a city user calls every operation of the OpenAPI document with the
other city's ids (path and body), and every list with the other city's codes as filters. The
answer is 403/404 (422 when the body is refused first), never data: nothing of city B's
marker text comes back, and no list names B's depot. A read-only user's writes are 403."""

from __future__ import annotations

import json
import os

import pytest

from tests.security.api_requests import Tally, fill_path, operations, valid_body, valid_query
from tests.security.api_world import open_world

TALLY = Tally()
# Path parameters that name one depot's things (a report's `{name}` names a kind, not a thing).
ID_PARAMS = {"depot", "granary", "lot", "alarm_id", "inspection_id", "code", "approval_id",
             "movement_id", "camera", "check_id", "count_id"}


def _names_a_thing(op) -> bool:
    return bool(ID_PARAMS & set(op.params))


@pytest.fixture(scope="module")
def world(database_url):
    yield from open_world(database_url)
    print(f"\ncross-scope: {TALLY.requests} requests, {TALLY.leaks} leaks, "
          f"{TALLY.server_errors} server errors, statuses {sorted(TALLY.statuses.items())}")
    report = os.environ.get("GRAINLINK_SECURITY_REPORT")
    if report:
        with open(report, "a", encoding="utf-8") as f:
            f.write(json.dumps({"suite": "api-scope", **TALLY.__dict__}) + "\n")


@pytest.fixture(scope="module")
def ops(world):
    return operations(world.client.get("/openapi.json").json())


def _call(w, method, path, headers, body=None, params=None):
    r = w.client.request(method, path, headers=headers, params=params,
                         json=body if body is not None else None)
    TALLY.note(r.status_code)
    leaked = w.leak_marker in r.text
    TALLY.leaks += leaked
    assert r.status_code < 500, f"{method} {path}: {r.status_code} {r.text[:300]}"
    assert not leaked, f"{method} {path} leaked city B's data: {r.text[:300]}"
    return r


def test_the_document_lists_every_kind_of_id(ops):
    names = {p for op in ops for p in op.params}
    assert {"depot", "granary", "lot", "alarm_id", "inspection_id", "code",
            "approval_id"} <= names


def test_the_admin_sees_city_b_so_the_marker_would_show(world):
    # The control: the ids are real and a leak would be caught by the marker.
    w = world
    b = w.ids["B"]
    for path in (f"/api/v1/depots/{b['depot']}/granaries/P01/latest", f"/api/v1/lots/{b['lot']}",
                 f"/api/v1/alarms/{b['alarm_id']}", "/api/v1/depots"):
        r = w.client.get(path, headers=w.headers("admin"))
        assert r.status_code == 200, (path, r.text)
    assert w.leak_marker in w.client.get(f"/api/v1/alarms/{b['alarm_id']}",
                                         headers=w.headers("admin")).text
    assert w.leak_marker in w.client.get("/api/v1/depots", headers=w.headers("admin")).text


@pytest.mark.parametrize("who", ["city_a", "depot_a", "county_other", "province_other"])
def test_every_operation_with_the_other_citys_ids_is_refused(world, ops, who):
    w = world
    ids = w.ids["B"]
    refused = 0
    for op in ops:
        if not _names_a_thing(op) and not (op.body and {"depot", "scope", "lot"} & set(
                op.body.get("properties", {}))):
            continue  # nothing of B's to name: the list tests below cover these
        path = fill_path(op, ids)
        r = _call(w, op.method, path, w.headers(who), valid_body(op, ids), valid_query(op, ids))
        assert r.status_code in (403, 404, 422), f"{op.method} {path}: {r.status_code} {r.text}"
        refused += 1
    assert refused >= 40


def test_a_lot_code_taken_in_another_city_answers_as_a_missing_lot(world):
    w = world
    r = _call(w, "POST", "/api/v1/lots", w.headers("city_a"), {
        "depot": w.a, "granary": "P01", "lot": w.ids["B"]["lot"], "category": "raw_grain",
        "variety": "wheat", "harvest_year": 2025, "card_established": "2025-10"})
    missing = _call(w, "GET", "/api/v1/lots/NO-SUCH-LOT", w.headers("city_a"))
    assert r.status_code == missing.status_code == 404
    assert r.json()["detail"] == missing.json()["detail"].replace("NO-SUCH-LOT", w.ids["B"]["lot"])


def test_every_list_filtered_by_the_other_city_shows_nothing_of_it(world, ops):
    w = world
    b = w.ids["B"]
    filters = {"depot": b["depot"], "scope": b["depot"], "region": "430200", "code": b["code"],
               "lot": b["lot"], "granary": "P01"}
    for op in ops:
        if _names_a_thing(op) or op.writes:
            continue
        names = [name for name, _schema in op.query]
        required = valid_query(op, w.ids["A"])
        for params in [{}, *({n: filters[n]} for n in names if n in filters),
                       {"scope": "430200"} if "scope" in names else {}]:
            r = _call(w, "GET", fill_path(op, {}), w.headers("city_a"),
                      params={**required, **params})
            if r.status_code == 200 and "depot" not in params and "scope" not in params:
                assert b["depot"] not in r.text, f"{op.path} {params} names B's depot"


def test_a_read_only_user_writes_nothing_even_in_its_own_city(world, ops):
    w = world
    for op in ops:
        if not op.writes:
            continue
        path = fill_path(op, w.ids["A"])
        r = _call(w, op.method, path, w.headers("viewer_a"), valid_body(op, w.ids["A"]))
        assert r.status_code in (403, 404, 422), f"{op.method} {path}: {r.status_code} {r.text}"


def test_no_token_is_401_everywhere(world, ops):
    w = world
    for op in ops:
        path = fill_path(op, w.ids["A"])
        r = _call(w, op.method, path, {}, valid_body(op, w.ids["A"]))
        assert r.status_code == 401, f"{op.method} {path}: {r.status_code}"
