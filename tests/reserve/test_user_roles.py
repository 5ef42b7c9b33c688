"""Job roles (api.md v1.1, domain.md §10): `grainlink central user add|grant|revoke|list`,
old role names mapped to job roles, and roles deciding who may approve what."""

from __future__ import annotations

import pytest

from central.db.pool import connect
from central.users import UserError, add_user, change_role, list_users, parse_roles, user_for_token
from grainlink.cli import main
from tests.central.api_support import migrated_settings, tag


@pytest.fixture
def cli_env(database_url, monkeypatch):
    migrated_settings(database_url)
    monkeypatch.setenv("GRAINLINK_DATABASE_URL", database_url)
    return database_url


@pytest.mark.parametrize(("role", "scope", "kind", "roles"), [
    ("province", "430000", "province", ("supervisor",)),
    ("city", "430100", "city", ("supervisor",)),
    ("depot", "D1", "depot", ("keeper", "manager")),
    ("admin", "000000", "admin", ("admin",)),
    ("keeper,inspector", "D1", "depot", ("keeper", "inspector")),
    ("supervisor", "430102", "county", ("supervisor",)),
])
def test_role_names_old_and_new(role, scope, kind, roles):
    assert parse_roles(role, scope) == (kind, roles)


@pytest.mark.parametrize(("role", "scope"), [("viewer", "D1"), ("keeper,boss", "D1"), ("admin,keeper", "D1"), ("", "D1")])
def test_unknown_roles_are_refused(role, scope):
    with pytest.raises(UserError):
        parse_roles(role, scope)


def test_cli_grants_and_revokes_job_roles(cli_env, capsys):
    name = f"keeper-{tag()}"
    assert main(["central", "user", "add", name, "--role", "keeper,inspector", "--scope", "DEPOT-X"]) == 0
    token = capsys.readouterr().out.strip()
    assert main(["central", "user", "grant", name, "--role", "manager"]) == 0
    assert main(["central", "user", "revoke", name, "--role", "inspector"]) == 0
    assert main(["central", "user", "list"]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith(name + "\t"))
    assert line.split("\t")[1:4] == ["depot", "DEPOT-X", "可读写"] and line.endswith("keeper,manager")
    with connect(cli_env) as conn:
        user = user_for_token(conn, token)
    assert user.roles == {"keeper", "manager"} and user.can_write
    assert main(["central", "user", "grant", name, "--role", "admin"]) == 2
    assert "admin 的范围须为 000000" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["central", "user", "add", "x", "--role", "keeper,viewer", "--scope", "D1"])
    assert "无效的角色 'viewer'" in capsys.readouterr().err


def test_old_tokens_keep_their_powers_after_the_migration(cli_env):
    with connect(cli_env, autocommit=True) as conn:
        viewer = add_user(conn, f"v-{tag()}", "province", "430000", can_write=False)
        depot = add_user(conn, f"d-{tag()}", "depot", "DEPOT-Y")
        assert user_for_token(conn, viewer).roles == frozenset()
        assert user_for_token(conn, depot).roles == {"keeper", "manager"}
        name = next(u.name for u in list_users(conn) if u.name.startswith("d-"))
        assert "keeper" not in change_role(conn, name, "keeper", grant=False)
        # the grants of `add` and the revoke are records; the first grant is still there
        changes = conn.execute("SELECT change, role FROM user_role_changes WHERE name = %s ORDER BY id",
                               (name,)).fetchall()
        assert changes == [("grant", "keeper"), ("grant", "manager"), ("revoke", "keeper")]
