"""Issue 16.3: a depot's identity (code, region) comes from provisioning, not from its own
layout. Layouts that disagree, are dated in the future or name contradictory region codes are
kept aside for a supervisor and change nothing; `grainlink central depot` manages both."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta

import pytest

from central.depots.identity import LayoutPolicy
from central.depots.regions import region_of_county, region_problem
from central.depots.store import ProvisionError, approve, dismiss, list_pending, provision
from central.ingest.prepare import prepare
from central.ingest.store import store_batch
from tests.central.ingest_support import encode, layout, now_utc, unique_depot

STRICT = LayoutPolicy(skew_tolerance_s=300, auto_provision=False)
AUTO = LayoutPolicy(skew_tolerance_s=300, auto_provision=True)
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def deliver(conn, body: dict, policy: LayoutPolicy = STRICT, received_at=None) -> None:
    item = prepare(f"grainlink/v1/{body['depot']}/layout", encode(body), received_at or now_utc(),
                   retained=True)
    assert item.ok, item.error
    store_batch(conn, [item], layout_policy=policy)


def depot_row(conn, code: str):
    return conn.execute("SELECT province, city, county, layout_at FROM depots WHERE code = %s",
                        (code,)).fetchone()


def granaries(conn, code: str) -> list[str]:
    return [r[0] for r in conn.execute(
        "SELECT granary FROM granaries WHERE depot = %s AND active ORDER BY 1", (code,))]


def cable_count(conn, code: str) -> int:
    return conn.execute("SELECT count(*) FROM cables WHERE depot = %s", (code,)).fetchone()[0]


def pending_reasons(conn, code: str) -> list[str]:
    return [p.reason for p in list_pending(conn) if p.depot == code]


def moved(body: dict, county: str) -> dict:
    return {**body, "region": {"province": county[:2] + "0000", "city": county[:4] + "00",
                               "county": county}}


@pytest.mark.parametrize(("parts", "wrong"), [
    (("430000", "430100", "430102"), None),
    (("110000", "110100", "110101"), None),
    (("441900", "441900", "441900"), "省级"),
    (("430000", "440100", "440103"), "不在省级代码"),
    (("430000", "430100", "430202"), "不在市级代码"),
    (("430000", "430000", "430102"), "不是市级区划"),
    (("430000", "430100", "43010"), "6 位数字"),
])
def test_region_parts_must_lie_inside_each_other(parts, wrong) -> None:
    problem = region_problem(*parts)
    assert (problem is None) if wrong is None else (wrong in problem), problem


def test_a_county_code_gives_its_province_and_city() -> None:
    r = region_of_county("430102")
    assert (r.province, r.city, r.county) == ("430000", "430100", "430102")
    with pytest.raises(ValueError, match="不是 6 位数字"):
        region_of_county("4301")


def test_provisioned_depot_applies_matching_layout_and_keeps_a_moved_one_aside(conn) -> None:
    code = unique_depot("ID")
    assert provision(conn, code, "430102", "长沙第一粮库") == "added"
    assert provision(conn, code, "430102") == "unchanged"
    deliver(conn, layout(code))
    assert depot_row(conn, code)[:3] == ("430000", "430100", "430102")
    assert granaries(conn, code) == ["P01"]
    # The depot moves itself to Guangdong: nothing changes, a supervisor sees why.
    deliver(conn, moved(layout(code, now_utc() + timedelta(seconds=5), cables=7), "440103"))
    assert depot_row(conn, code)[:3] == ("430000", "430100", "430102")
    assert cable_count(conn, code) == 2
    assert pending_reasons(conn, code) == ["region_mismatch"]
    detail = next(p.detail for p in list_pending(conn) if p.depot == code)
    assert "440000/440100/440103" in detail and "430000/430100/430102" in detail


def test_layout_dated_beyond_the_skew_allowance_is_kept_aside_and_freezes_nothing(conn) -> None:
    code = unique_depot("ID")
    provision(conn, code, "430102")
    deliver(conn, layout(code))
    first_at = depot_row(conn, code)[3]
    far = layout(code)
    far["generated_at"] = "9999-12-31T00:00:00Z"
    deliver(conn, far)
    assert depot_row(conn, code)[3] == first_at
    assert pending_reasons(conn, code) == ["future"]
    # The depot's next honest layout still gets through.
    nxt = layout(code, now_utc() + timedelta(seconds=10), cables=5)
    deliver(conn, nxt)
    assert depot_row(conn, code)[3] > first_at
    # Within the allowance (a clock 4 minutes fast) is fine.
    fast = layout(code, now_utc() + timedelta(minutes=4), cables=6)
    deliver(conn, fast)
    assert cable_count(conn, code) == 6


def test_contradictory_region_is_kept_aside_even_for_auto_provision(conn) -> None:
    code = unique_depot("ID")
    body = layout(code)
    body["region"] = {"province": "430000", "city": "440100", "county": "440103"}
    deliver(conn, body, AUTO)
    assert depot_row(conn, code) is None or depot_row(conn, code)[0] is None
    assert pending_reasons(conn, code) == ["region_inconsistent"]
    assert conn.execute("SELECT count(*) FROM depot_registry WHERE code = %s", (code,)).fetchone()[0] == 0


def test_never_provisioned_depot_waits_for_approval(conn) -> None:
    code = unique_depot("ID")
    deliver(conn, layout(code))
    deliver(conn, layout(code))  # a second delivery of the same retained copy is kept once
    assert granaries(conn, code) == []
    assert pending_reasons(conn, code) == ["unregistered"]
    pending_id = next(p.id for p in list_pending(conn) if p.depot == code)
    assert approve(conn, pending_id) == code
    assert depot_row(conn, code)[:3] == ("430000", "430100", "430102")
    assert granaries(conn, code) == ["P01"]
    assert pending_reasons(conn, code) == []
    with pytest.raises(ProvisionError, match="没有待处理的布局"):
        approve(conn, pending_id)


def test_future_layout_cannot_be_approved_only_dismissed(conn) -> None:
    code = unique_depot("ID")
    provision(conn, code, "430102")
    far = layout(code)
    far["generated_at"] = "9999-12-31T00:00:00Z"
    deliver(conn, far)
    pending_id = next(p.id for p in list_pending(conn) if p.depot == code)
    with pytest.raises(ProvisionError, match="dismiss"):
        approve(conn, pending_id)
    assert dismiss(conn, pending_id) == code
    assert pending_reasons(conn, code) == []


def test_auto_provision_registers_the_first_layout_and_holds_the_region(conn) -> None:
    code = unique_depot("ID")
    deliver(conn, layout(code), AUTO)
    assert granaries(conn, code) == ["P01"]
    source = conn.execute("SELECT source FROM depot_registry WHERE code = %s", (code,)).fetchone()[0]
    assert source == "auto"
    deliver(conn, moved(layout(code, now_utc() + timedelta(seconds=5)), "440103"), AUTO)
    assert depot_row(conn, code)[:3] == ("430000", "430100", "430102")
    assert pending_reasons(conn, code) == ["region_mismatch"]


def test_moving_a_registered_depot_needs_update_and_moves_its_row(conn) -> None:
    code = unique_depot("ID")
    provision(conn, code, "430102")
    deliver(conn, layout(code))
    with pytest.raises(ProvisionError, match="--update"):
        provision(conn, code, "440103")
    with pytest.raises(ProvisionError, match="6 位数字"):
        provision(conn, code, "44A103")
    with pytest.raises(ProvisionError, match="粮库代码"):
        provision(conn, "bad/code", "430102")
    assert provision(conn, code, "440103", update=True) == "updated"
    assert depot_row(conn, code)[:3] == ("440000", "440100", "440103")


def test_depot_cli_add_list_approve(url, conn) -> None:
    code = unique_depot("CLI")
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRAINLINK_")}
    env["GRAINLINK_DATABASE_URL"] = url

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "grainlink.cli", "central", "depot", *args],
                              cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)

    added = cli("add", code, "--region", "430102", "--name", "长沙第一粮库")
    assert added.returncode == 0, added.stderr
    bad = cli("add", code, "--region", "440103")
    assert bad.returncode == 2 and "--update" in bad.stderr
    listed = cli("list")
    assert f"{code}\t430000\t430100\t430102\tcli\t长沙第一粮库" in listed.stdout.splitlines()
    other = unique_depot("CLI")
    deliver(conn, layout(other))
    pending = cli("list", "--pending")
    line = next(ln for ln in pending.stdout.splitlines() if f"\t{other}\t" in ln)
    assert "粮库未登记" in line
    approved = cli("approve", line.split("\t")[0])
    assert approved.returncode == 0, approved.stderr
    assert granaries(conn, other) == ["P01"]


def test_clearing_a_retained_layout_changes_nothing_and_is_no_dead_letter(conn) -> None:
    code = unique_depot("CL")
    deliver(conn, layout(code), AUTO)
    before = granaries(conn, code)
    dead = conn.execute("SELECT count(*) FROM dead_letters WHERE depot = %s", (code,)).fetchone()[0]
    item = prepare(f"grainlink/v1/{code}/layout", b"", now_utc(), retained=True)
    result = store_batch(conn, [item], layout_policy=AUTO)
    assert result.dead_letters == 0
    assert conn.execute("SELECT count(*) FROM dead_letters WHERE depot = %s",
                        (code,)).fetchone()[0] == dead
    assert granaries(conn, code) == before and before
