"""The scope matrix: every role sees exactly its depots; out of scope is 404, no or bad
token is 401, a write by a read-only user is 403."""

from __future__ import annotations

import pytest
from fastapi import APIRouter
from fastapi.testclient import TestClient

from central.api.deps import DepotRef, WriteUser
from central.db.pool import connect
from central.users import revoke_user
from central.wiring import build_app
from tests.central.api_support import bearer, insert_depot, migrated_settings, new_user, tag

REGIONS = {
    "A": {"province": "430000", "city": "430100", "county": "430102"},
    "B": {"province": "430000", "city": "430200", "county": "430203"},
    "C": {"province": "440000", "city": "440100", "county": "440103"},
    "N": None,  # no layout region yet: only admin sees it
}


@pytest.fixture(scope="module")
def world(database_url):
    settings = migrated_settings(database_url)
    t = tag()
    codes = {k: f"SCOPE{t}-{k}" for k in REGIONS}
    with connect(database_url, autocommit=True) as conn:
        for key, region in REGIONS.items():
            insert_depot(conn, codes[key], region, {"P01": [(1, 1, 1, 4)]})
    # A write endpoint of the tests' own: the write check is the shared dependency.
    probe = APIRouter()

    @probe.post("/depots/{depot}/probe-write")
    def probe_write(user: WriteUser, depot: DepotRef):
        return {"ok": True, "by": user.name, "depot": depot["code"]}

    app = build_app(settings)
    app.include_router(probe, prefix="/api/v1")
    with TestClient(app) as client:
        yield client, codes, database_url


USERS = [  # role, scope (depot scope "A" = depot A's code), can_write, depots it sees
    ("admin", "000000", True, "ABCN"),
    ("province", "430000", True, "AB"),
    ("province", "440000", True, "C"),
    ("city", "430100", True, "A"),
    ("city", "430200", True, "B"),
    ("county", "430102", True, "A"),
    ("county", "430103", True, ""),
    ("depot", "A", True, "A"),
    ("province", "430000", False, "AB"),  # a read-only viewer
]


@pytest.mark.parametrize(("role", "scope", "can_write", "sees"), USERS)
def test_each_user_sees_exactly_its_depots(world, role, scope, can_write, sees):
    client, codes, url = world
    scope = codes[scope] if role == "depot" else scope
    headers = bearer(new_user(url, role, scope, can_write))
    mine = set(codes.values())

    listed = client.get("/api/v1/depots", headers=headers)
    assert listed.status_code == 200
    assert {d["depot"] for d in listed.json()} & mine == {codes[k] for k in sees}

    for key, code in codes.items():
        one = client.get(f"/api/v1/depots/{code}", headers=headers)
        latest = client.get(f"/api/v1/depots/{code}/granaries/P01/latest", headers=headers)
        write = client.post(f"/api/v1/depots/{code}/probe-write", headers=headers)
        if key in sees:
            assert one.status_code == 200 and one.json()["depot"] == code
            assert latest.status_code == 200
            assert write.status_code == (200 if can_write else 403), write.text
        else:
            # Out of scope looks exactly like a depot that does not exist.
            assert one.status_code == 404 and one.json() == {"detail": f"粮库 {code} 不存在"}
            assert latest.status_code == 404
            assert write.status_code == (404 if can_write else 403)


def test_listed_depots_of_other_tests_are_in_scope_too(world):
    client, _codes, url = world
    headers = bearer(new_user(url, "city", "430100"))
    for depot in client.get("/api/v1/depots", headers=headers).json():
        assert depot["region"].startswith("4301")


def test_unknown_depot_is_404(world):
    client, _codes, url = world
    headers = bearer(new_user(url, "admin", "000000"))
    r = client.get("/api/v1/depots/NO-SUCH-DEPOT", headers=headers)
    assert r.status_code == 404 and "NO-SUCH-DEPOT" in r.json()["detail"]
    r = client.get(f"/api/v1/depots/{_codes['A']}/granaries/P99/latest", headers=headers)
    assert r.status_code == 404 and "P99" in r.json()["detail"]


@pytest.mark.parametrize("path", ["/api/v1/depots", "/api/v1/depots/X",
                                  "/api/v1/depots/X/granaries/P01/latest"])
@pytest.mark.parametrize("auth", [None, "Bearer nonsense", "Bearer ", "Basic dXNlcjpwdw==",
                                  "glk_only_the_token"])
def test_no_or_bad_token_is_401(world, path, auth):
    client, _codes, _url = world
    headers = {"Authorization": auth} if auth is not None else {}
    r = client.get(path, headers=headers)
    assert r.status_code == 401
    assert isinstance(r.json()["detail"], str)
    assert r.headers["www-authenticate"] == "Bearer"


def test_write_without_token_is_401(world):
    client, codes, _url = world
    assert client.post(f"/api/v1/depots/{codes['A']}/probe-write").status_code == 401


def test_revoked_token_is_401(world):
    client, _codes, url = world
    token = new_user(url, "admin", "000000")
    assert client.get("/api/v1/depots", headers=bearer(token)).status_code == 200
    with connect(url, autocommit=True) as conn:
        name = conn.execute("SELECT name FROM users ORDER BY created_at DESC LIMIT 1").fetchone()[0]
        revoke_user(conn, name)
    assert client.get("/api/v1/depots", headers=bearer(token)).status_code == 401


def test_token_is_stored_only_as_hash(world):
    _client, _codes, url = world
    token = new_user(url, "admin", "000000")
    with connect(url) as conn:
        stored = conn.execute("SELECT count(*) FROM users WHERE token_sha256::text LIKE %s",
                              (f"%{token.encode().hex()}%",)).fetchone()[0]
        columns = [r[0] for r in conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'users'")]
    assert stored == 0
    assert "token" not in columns and "token_sha256" in columns
