"""Issue 16 items 5–6 that are not about one field: the 1 MiB body limit (announced and
chunked), the security headers on pages and API, no Swagger UI from a CDN, formula text
escaped in every spreadsheet cell, the broker password never shown, and validation errors
that name the field without echoing what was sent."""

from __future__ import annotations

import csv
import io

import pytest

from central.api.errors import validation_detail
from central.api.input_guard import MAX_BODY_BYTES
from central.api.security_headers import HEADERS
from central.reports.render import spreadsheet_safe, to_csv
from central.settings import Settings
from common.secrets import mask_url
from tests.security.api_world import open_world


@pytest.fixture(scope="module")
def world(database_url):
    yield from open_world(database_url)


def _inspection(w):
    return f"/api/v1/depots/{w.a}/granaries/P01/inspections"


def test_a_body_over_1_mib_is_413_before_it_is_read(world):
    w = world
    big = b'{"species": ["' + b"x" * MAX_BODY_BYTES + b'"]}'
    r = w.client.post(_inspection(w), content=big,
                      headers={**w.headers("city_a"), "Content-Type": "application/json"})
    assert r.status_code == 413 and "上限" in r.json()["detail"]


def test_a_chunked_body_over_1_mib_is_413_too(world):
    w = world

    def chunks():
        yield b'{"species": ["'
        for _ in range(20):
            yield b"x" * 65536
        yield b'"]}'

    r = w.client.post(_inspection(w), content=chunks(),
                      headers={**w.headers("city_a"), "Content-Type": "application/json"})
    assert r.status_code == 413


def test_a_body_just_under_the_limit_is_read(world):
    w = world
    body = b'{"date": "2026-11-01", "pests_per_kg": 1, "major_per_kg": 0, "species": ["' + \
        b"x" * (MAX_BODY_BYTES - 200) + b'"]}'
    r = w.client.post(_inspection(w), content=body,
                      headers={**w.headers("city_a"), "Content-Type": "application/json"})
    assert r.status_code != 413  # refused for the list item's meaning, not for the size


@pytest.mark.parametrize("path", ["/", "/api/v1/depots", "/api/v1/no-such", "/healthz",
                                  "/openapi.json"])
def test_pages_and_api_carry_the_security_headers(world, path):
    w = world
    r = w.client.get(path, headers=w.headers("city_a"))
    for name, value in HEADERS.items():
        assert r.headers.get(name) == value, (path, name)
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
    assert "script-src 'self'" in r.headers["content-security-policy"]


def test_no_swagger_ui_from_a_cdn_but_the_openapi_document_stays(world):
    w = world
    for path in ("/docs", "/redoc"):
        r = w.client.get(path)
        assert "cdn" not in r.text.lower() and "swagger-ui" not in r.text.lower()
    spec = w.client.get("/openapi.json")
    assert spec.status_code == 200 and spec.json()["paths"]


def test_every_api_answer_is_described_in_the_document(world):
    spec = world.client.get("/openapi.json").json()
    mine = ("/depots", "/alarms", "/thresholds", "/inspections", "/report", "/latest",
            "/history", "/gaps")
    for path, ops in spec["paths"].items():
        if not any(part in path for part in mine) or any(
                other in path for other in ("/cameras", "/commands", "/device", "/stock")):
            continue
        for method, op in ops.items():
            ok = next(code for code in ("200", "201") if code in op["responses"])
            schema = op["responses"][ok]["content"]["application/json"]["schema"]
            assert schema, f"{method} {path} has no answer model"
            assert "422" in op["responses"], f"{method} {path}"


@pytest.mark.parametrize("cell", ["=1+1", "+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1",
                                  "=HYPERLINK(\"http://x\")"])
def test_formula_text_is_escaped_in_csv(cell):
    assert spreadsheet_safe(cell) == "'" + cell
    text = to_csv(["a", cell], [[cell, 1.5, None, -3]])
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][1] == "'" + cell and rows[1][0] == "'" + cell
    assert rows[1][1:] == ["1.5", "", "-3"]  # numbers stay numbers


def test_a_lot_report_in_csv_escapes_what_a_user_typed(world):
    w = world
    lot = w.ids["A"]["lot"]
    r = w.client.post(f"/api/v1/lots/{lot}/movements", headers=w.headers("city_a"), json={
        "direction": "in", "date": "2025-10-11", "quantity_t": 1, "moisture_pct": 12,
        "impurity_pct": 0.5, "voucher": "=cmd|' /C calc'!A0"})
    assert r.status_code in (201, 202), r.text
    text = w.client.get(f"/api/v1/lots/{lot}/report", params={"format": "csv"},
                        headers=w.headers("city_a")).text
    for row in csv.reader(io.StringIO(text)):
        assert not any(cell.startswith(("=", "+", "-", "@")) for cell in row), row


@pytest.mark.parametrize("url", ["mqtt://grainlink:s3cret@broker:1883",
                                 "mqtts://grainlink:s3cret@[::1]:8883", "mqtt://:s3cret@b"])
def test_the_broker_password_is_never_shown(url):
    assert "s3cret" not in mask_url(url) and "***" in mask_url(url)
    assert "s3cret" not in repr(Settings(mqtt_url=url, mqtt_password="s3cret"))


def test_a_validation_error_names_the_field_and_echoes_nothing():
    detail = validation_detail([
        {"type": "finite_number", "loc": ("body", "pests_per_kg"), "input": float("nan")},
        {"type": "extra_forbidden", "loc": ("body", "x\x00\ud800"), "input": "\ud800"},
        {"type": "string_too_long", "loc": ("query", "depot"), "input": "y" * 100,
         "ctx": {"max_length": 64}},
        {"type": "missing", "loc": ("body", "date"), "input": {}},
    ])
    assert "正文 pests_per_kg：不接受 NaN 或 Infinity" in detail
    assert "正文 x??：不是可接受的字段" in detail
    assert "查询参数 depot：最多 64 个字符" in detail
    assert "另有 1 处错误" in detail
    assert "\x00" not in detail and "\ud800" not in detail and "y" * 65 not in detail


def test_latest_and_thresholds_agree_on_which_granaries_exist(world):
    w = world
    h = w.headers("city_a")
    for granary in ("P01", "P02", "P99", "P01%00", "x" * 70):
        base = f"/api/v1/depots/{w.a}/granaries/{granary}"
        statuses = {w.client.get(f"{base}/{what}", headers=h).status_code
                    for what in ("latest", "thresholds", "inspections", "history")}
        assert len(statuses) == 1, (granary, statuses)
        assert statuses <= {200, 404, 400}
