"""The broker role's password-file filter: mosquitto's own tool verifies its hashes, and a
second run keeps the lines it wrote (idempotence)."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess

import pytest

from tests.deploy import ansible_run

PLUGIN = ansible_run.ANSIBLE_DIR / "roles/grainlink_broker/filter_plugins/mosquitto_passwd.py"
spec = importlib.util.spec_from_file_location("mosquitto_passwd", PLUGIN)
plugin = importlib.util.module_from_spec(spec)
spec.loader.exec_module(plugin)


def test_hash_matches_mosquitto_passwd(tmp_path) -> None:
    tool = shutil.which("mosquitto_passwd")
    if tool is None:
        pytest.skip("mosquitto_passwd is not installed")
    path = tmp_path / "passwd"
    subprocess.run([tool, "-b", "-c", str(path), "depot", "s3cret:with spaces"], check=True)
    stored = path.read_text().strip().split(":", 1)[1]
    assert plugin.verify_password("s3cret:with spaces", stored)
    assert not plugin.verify_password("s3cret", stored)


def test_existing_lines_are_kept_while_they_verify() -> None:
    first = plugin.mosquitto_passwd_file({"B": "pw-b", "A": "pw-a"})
    assert [line.split(":")[0] for line in first.splitlines()] == ["A", "B"]
    assert plugin.mosquitto_passwd_file({"A": "pw-a", "B": "pw-b"}, first) == first
    changed = plugin.mosquitto_passwd_file({"A": "pw-a", "B": "new"}, first)
    old_lines, new_lines = first.splitlines(), changed.splitlines()
    assert new_lines[0] == old_lines[0] and new_lines[1] != old_lines[1]
    assert plugin.verify_password("new", new_lines[1].split(":", 1)[1])
    assert plugin.mosquitto_passwd_file({"A": "pw-a"}, changed) == old_lines[0] + "\n"


@pytest.mark.parametrize("users", [{"A": ""}, {"a:b": "pw"}])
def test_bad_users_are_refused_with_the_name(users) -> None:
    with pytest.raises(ValueError, match="broker user"):
        plugin.mosquitto_passwd_file(users)
