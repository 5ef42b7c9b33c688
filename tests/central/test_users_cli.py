"""`grainlink central user add|list|revoke` against the scratch database."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from central.wiring import build_app
from grainlink.cli import main
from tests.central.api_support import bearer, migrated_settings, tag


@pytest.fixture
def cli_env(database_url, monkeypatch):
    migrated_settings(database_url)
    monkeypatch.setenv("GRAINLINK_DATABASE_URL", database_url)
    return database_url


def test_add_prints_a_working_token_once_then_list_and_revoke(cli_env, capsys):
    name = f"ops-{tag()}"
    assert main(["central", "user", "add", name, "--role", "province", "--scope", "430000",
                 "--read-only"]) == 0
    out, err = capsys.readouterr()
    token = out.strip()
    assert token.startswith("glk_") and "\n" not in token
    assert "只显示这一次" in err and "只读" in err

    with TestClient(build_app(migrated_settings(cli_env))) as client:
        assert client.get("/api/v1/depots", headers=bearer(token)).status_code == 200

        assert main(["central", "user", "list"]) == 0
        out, _ = capsys.readouterr()
        line = next(x for x in out.splitlines() if x.startswith(name + "\t"))
        assert line.split("\t")[1:] == ["province", "430000", "只读", "在用", "-"]
        assert token not in out

        assert main(["central", "user", "revoke", name]) == 0
        assert client.get("/api/v1/depots", headers=bearer(token)).status_code == 401
    assert main(["central", "user", "list"]) == 0
    out, _ = capsys.readouterr()
    assert "\t已吊销 " in next(x for x in out.splitlines() if x.startswith(name + "\t"))

    # A revoked name can be issued a fresh token; an active one cannot be added twice.
    assert main(["central", "user", "add", name, "--role", "admin", "--scope", "000000"]) == 0
    capsys.readouterr()
    assert main(["central", "user", "add", name, "--role", "admin", "--scope", "000000"]) == 2
    assert "已存在" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--role", "city", "--scope", "430000"], "市级代码以 00 结尾、不以 0000 结尾"),
        (["--role", "admin", "--scope", "430000"], "admin 的范围须为 000000"),
        (["--role", "county", "--scope", "4301"], "6 位行政区划代码"),
        (["--role", "depot", "--scope", "bad/code"], "库点用户的范围是库点编码"),
    ],
)
def test_add_rejects_bad_role_scope_with_a_clear_error(cli_env, capsys, args, message):
    assert main(["central", "user", "add", f"bad-{tag()}", *args]) == 2
    out, err = capsys.readouterr()
    assert out == "" and message in err


def test_unknown_role_is_refused_by_the_parser(cli_env, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["central", "user", "add", "x", "--role", "viewer", "--scope", "000000"])
    assert exit_info.value.code == 2
    assert "无效的角色 'viewer'" in capsys.readouterr().err


def test_revoke_of_unknown_user_fails_clearly(cli_env, capsys):
    assert main(["central", "user", "revoke", f"nobody-{tag()}"]) == 2
    assert "没有这个在用的用户" in capsys.readouterr().err


def test_unreachable_database_is_a_clear_error(monkeypatch, capsys):
    monkeypatch.setenv("GRAINLINK_DATABASE_URL", "postgresql://127.0.0.1:1/nothing")
    assert main(["central", "user", "list"]) == 1
    assert "连不上数据库" in capsys.readouterr().err


def test_history_lists_every_grant_and_revoke_in_order(cli_env, capsys):
    name = f"keeper-{tag()}"
    assert main(["central", "user", "add", name, "--role", "keeper", "--scope", "HN-0731-001"]) == 0
    assert main(["central", "user", "grant", name, "--role", "inspector"]) == 0
    assert main(["central", "user", "revoke", name, "--role", "keeper"]) == 0
    capsys.readouterr()
    assert main(["central", "user", "history", name]) == 0
    out, _ = capsys.readouterr()
    rows = [line.split("\t")[1:] for line in out.splitlines()]
    assert rows == [["授予", "keeper", "HN-0731-001"], ["授予", "inspector", "HN-0731-001"],
                    ["撤销", "keeper", "HN-0731-001"]]
    assert main(["central", "user", "history", f"nobody-{tag()}"]) == 1
    assert "没有岗位角色记录" in capsys.readouterr().err
