"""Nothing is edited in place (issue 14): a batch's decisions, an approval's decision and a
user's job roles are records; the superseded ones stay readable, the key refuses a second
final decision, and migration 0080 converts rows written the old way."""

from __future__ import annotations

import shutil
import threading
from datetime import UTC, date, datetime
from decimal import Decimal

import psycopg
import pytest

from central.approvals import store as approvals
from central.approvals.rules import Refused
from central.db.migrate import MIGRATIONS_DIR, migrate
from central.db.pool import connect
from central.intake import store as batches
from central.lots import plans
from central.lots import store as lots
from central.settings import Settings
from central.users import (
    User,
    add_user,
    change_role,
    current_roles,
    hash_token,
    new_token,
    role_history,
    user_for_token,
)
from tests.central.api_support import insert_depot, migrated_settings, tag
from tests.support import services


@pytest.fixture(scope="module")
def db(database_url):
    migrated_settings(database_url)
    depot = f"AO{tag()}"
    with connect(database_url, autocommit=True) as conn:
        insert_depot(conn, depot, {"province": "430000", "city": "430100", "county": "430102"},
                     {"P01": [(1, 1, 1, 4)], "P02": [(1, 1, 1, 4)]})
    return database_url, depot


def _batch(conn, depot: str) -> dict:
    return batches.register(conn, "keeper-x", {
        "depot": depot, "direction": "in", "category": "raw_grain", "variety": "wheat",
        "arrived_at": datetime(2026, 7, 1, 8, tzinfo=UTC)})


def test_a_batch_keeps_every_decision_and_the_newest_is_its_state(db):
    url, depot = db
    with connect(url) as conn:
        b = _batch(conn, depot)
        assert batches.get(conn, b["code"])["state"] == "arrived"
        batches.decide(conn, b, "keeper-x", "pretreatment", "水分偏高，烘干", datetime(2026, 7, 1, 9, tzinfo=UTC))
        batches.decide(conn, b, "keeper-y", "refused", "烘干后仍超标", datetime(2026, 7, 2, 9, tzinfo=UTC))
        now = batches.get(conn, b["code"])
        history = batches.decisions(conn, b["code"])
        conn.commit()
    assert now["state"] == "refused" and now["decided_at"] == datetime(2026, 7, 2, 9, tzinfo=UTC)
    # the superseded pretreatment is still there, with who and when
    assert [(d["state"], d["by"]) for d in history] == [("pretreatment", "keeper-x"), ("refused", "keeper-y")]
    with connect(url) as conn, pytest.raises(psycopg.Error):
        conn.execute("UPDATE batch_decisions SET state = 'accepted' WHERE code = %s", (b["code"],))
    # a second final decision is refused by the key, whatever read came before it
    with connect(url) as conn, pytest.raises(psycopg.errors.UniqueViolation):
        conn.execute("INSERT INTO batch_decisions (code, state, by_user) VALUES (%s, 'refused', 'z')",
                     (b["code"],))


def _plan_request(conn) -> dict:
    return approvals.request(conn, "plan_change", "sup-a", f"plan:test:{tag()}",
                             {"scope_kind": "province", "scope": "430000", "variety": "wheat",
                              "quantity_t": Decimal("1000")}, "年度计划", region="430000")


def test_two_concurrent_decisions_leave_one(db):
    url, _ = db
    with connect(url, autocommit=True) as conn:
        row = _plan_request(conn)
    # both deciders pass the state check before either records: only the key can stop one
    barrier = threading.Barrier(2, timeout=10)
    outcomes: dict[str, object] = {}

    def action(conn, row, user):
        barrier.wait()
        return {"by": user.name}

    def decide(name: str, approve: bool):
        user = User(name, "province", "430000", True, frozenset({"supervisor"}))
        with connect(url) as conn:
            try:
                with conn.transaction():
                    outcomes[name] = approvals.decide_and_apply(conn, row, user, approve, None, action)
            except Refused as exc:
                outcomes[name] = exc

    threads = [threading.Thread(target=decide, args=("sup-b", True)),
               threading.Thread(target=decide, args=("sup-c", True))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    refused = [v for v in outcomes.values() if isinstance(v, Refused)]
    decided = [v for v in outcomes.values() if isinstance(v, dict)]
    assert len(refused) == 1 and refused[0].status == 409 and len(decided) == 1
    with connect(url) as conn:
        rows = conn.execute("SELECT decided_by, result FROM approval_decisions WHERE approval_id = %s",
                            (row["id"],)).fetchall()
        shown = approvals.get(conn, row["id"])
    assert rows == [(decided[0]["decided_by"], {"by": decided[0]["decided_by"]})]
    # the request itself is unchanged beside its decision
    assert shown["state"] == "approved" and shown["requested_by"] == "sup-a" and shown["reason"] == "年度计划"


def test_the_request_and_the_decision_are_not_editable(db):
    url, _ = db
    with connect(url, autocommit=True) as conn:
        row = _plan_request(conn)
        for sql in ("UPDATE approval_requests SET reason = 'x' WHERE id = %s",
                    "DELETE FROM approval_requests WHERE id = %s"):
            with pytest.raises(psycopg.Error):
                conn.execute(sql, (row["id"],))


def test_roles_are_grant_and_revoke_records(db):
    url, _ = db
    name = f"ao-{tag()}"
    with connect(url, autocommit=True) as conn:
        token = add_user(conn, name, "keeper,inspector", "D-AO")
        assert change_role(conn, name, "inspector", grant=False) == ("keeper",)
        assert change_role(conn, name, "manager", grant=True) == ("keeper", "manager")
        assert change_role(conn, name, "inspector", grant=True) == ("keeper", "manager", "inspector")
        assert user_for_token(conn, token).roles == {"keeper", "manager", "inspector"}
        for role in ("keeper", "manager", "inspector"):
            change_role(conn, name, role, grant=False)
        user = user_for_token(conn, token)
        history = [(c, r) for c, r, _scope, _at in role_history(conn, name)]
        with pytest.raises(psycopg.Error):
            conn.execute("UPDATE user_role_changes SET change = 'grant' WHERE name = %s", (name,))
    # the token still works; with no role left its user reads only
    assert user.roles == frozenset() and not user.can_write
    assert history == [("grant", "keeper"), ("grant", "inspector"), ("revoke", "inspector"),
                       ("grant", "manager"), ("grant", "inspector"), ("revoke", "keeper"),
                       ("revoke", "manager"), ("revoke", "inspector")]


def _lot(conn, depot: str) -> dict:
    return lots.create_lot(conn, "keeper-x", {
        "lot": f"L{tag()}", "depot": depot, "granary": "P01", "category": "raw_grain",
        "variety": "wheat", "harvest_year": 2025, "card_established": date(2026, 1, 1)})


def test_a_lot_moves_and_settles_by_records_and_its_card_stays(db):
    url, depot = db
    with connect(url) as conn:
        lot = _lot(conn, depot)
        moved = lots.transfer(conn, lot, "keeper-x", "P02", "approval:1")
        m = {"date": date(2026, 2, 1), "quantity_t": Decimal("100"), "moisture_pct": Decimal("12.5"),
             "impurity_pct": Decimal("0.8"), "voucher": "V1"}
        lots.add_movement(conn, moved, "keeper-x", {**m, "direction": "in"})
        lots.add_movement(conn, moved, "keeper-x", {**m, "direction": "out", "quantity_t": Decimal("99.9"),
                                                     "date": date(2026, 3, 1), "voucher": "V2"})
        lots.settle_lot(conn, moved, "keeper-x", date(2026, 3, 1))
        shown = lots.get_lot(conn, lot["lot"])
        card = conn.execute("SELECT card_granary FROM lot_cards WHERE lot = %s", (lot["lot"],)).fetchone()[0]
        moves = conn.execute("SELECT from_granary, to_granary FROM lot_transfers WHERE lot = %s",
                             (lot["lot"],)).fetchall()
        conn.commit()
    assert moved["granary"] == "P02" and shown["granary"] == "P02" and card == "P01"
    assert moves == [("P01", "P02")]
    assert shown["settled_at"] is not None and shown["settlement"]["cleared_on"] == "2026-03-01"
    with connect(url) as conn, pytest.raises(psycopg.errors.UniqueViolation):
        conn.execute("INSERT INTO lot_settlements (lot, depot, cleared_on, settlement, by_user)"
                     " VALUES (%s, %s, '2026-03-02', '{}', 'z')", (lot["lot"], depot))
    with connect(url) as conn, pytest.raises(psycopg.Error):
        conn.execute("UPDATE lot_cards SET variety = 'maize' WHERE lot = %s", (lot["lot"],))


def test_a_plan_change_is_a_new_record(db):
    url, _ = db
    scope = f"D{tag()}"
    with connect(url) as conn:
        plans.apply(conn, "depot", scope, "wheat", Decimal("500"), "sup-a", "sup-b", None)
        plans.apply(conn, "depot", scope, "wheat", Decimal("800"), "sup-a", "sup-c", None)
        now = plans.current(conn, "depot", scope, "wheat")
        history = [(float(h["quantity_t"]), h["approved_by"]) for h in plans.history(conn, "depot", scope)]
        conn.commit()
    assert now == Decimal("800") and history == [(500.0, "sup-b"), (800.0, "sup-c")]


def test_migration_0080_converts_rows_written_in_place(database_server_url, tmp_path):
    """A database at the schema before 0080 with batches, approvals and roles as the old code
    wrote them reads the same through the views afterwards."""
    for path in MIGRATIONS_DIR.glob("*.sql"):
        if int(path.name[:4]) < 80:
            shutil.copy(path, tmp_path / path.name)
    with services.scratch_database(database_server_url, prefix="grainlink_ao") as url:
        settings = Settings(database_url=url)
        migrate(url, settings, directory=tmp_path)
        with connect(url, autocommit=True) as conn:
            insert_depot(conn, "OLD1", {"province": "430000"}, {"P01": [(1, 1, 1, 4)]})
            insert_depot(conn, "OLD2", {"province": "430000"}, {"P01": [(1, 1, 1, 4)], "P02": [(1, 1, 1, 4)]})
            conn.execute("""INSERT INTO lots (lot, depot, granary, category, variety, card_established, created_by)
                            VALUES ('L-OLD', 'OLD1', 'P01', 'raw_grain', 'wheat', '2026-07-01', 'k')""")
            # moved P01 → P02 and settled, the old way: the row rewritten, the ledger told
            conn.execute("""INSERT INTO lots (lot, depot, granary, category, variety, card_established, created_by,
                                              settled_at, settlement)
                            VALUES ('L-MOVED', 'OLD2', 'P02', 'raw_grain', 'wheat', '2026-01-01', 'k',
                                    '2026-06-01Z', '{"cleared_on": "2026-05-30"}')""")
            conn.execute("""INSERT INTO lot_ledger (lot, by_user, action, detail) VALUES
                ('L-MOVED', 'm', 'transfer', '{"from": "P01", "to": "P02", "approval_ref": "approval:9"}'),
                ('L-MOVED', 'k2', 'settled', '{}')""")
            conn.execute("""INSERT INTO intake_batches (code, depot, direction, category, variety, arrived_at,
                                                        state, lot, decided_at, created_by) VALUES
                ('RK-A', 'OLD1', 'in', 'raw_grain', 'wheat', '2026-07-01 08:00Z', 'accepted', 'L-OLD',
                 '2026-07-01 11:00Z', 'k'),
                ('RK-B', 'OLD1', 'in', 'raw_grain', 'wheat', '2026-07-02 08:00Z', 'refused', NULL,
                 '2026-07-02 10:00Z', 'k'),
                ('RK-C', 'OLD1', 'in', 'raw_grain', 'wheat', '2026-07-03 08:00Z', 'arrived', NULL, NULL, 'k')""")
            conn.execute("""INSERT INTO batch_steps (code, step, at, by_user) VALUES
                ('RK-B', 'pretreatment', '2026-07-02 09:00Z', 'k2'), ('RK-B', 'refused', '2026-07-02 10:00Z', 'k3')""")
            conn.execute("""INSERT INTO approvals (kind, depot, subject, payload, requested_by, state,
                                                   decided_by, decided_at, note) VALUES
                ('transfer', 'OLD1', 'lot:L-OLD', '{}', 'k', 'approved', 'm', '2026-07-05 10:00Z', '同意'),
                ('transfer', 'OLD1', 'lot:L-OLD', '{}', 'k', 'pending', NULL, NULL, NULL)""")
            # as the old code kept roles: an array on the user row, changes only logged
            old_token = new_token()
            conn.execute("""INSERT INTO users (name, role, scope, can_write, token_sha256, job_roles)
                            VALUES ('old-depot', 'depot', 'OLD1', true, %s, ARRAY['manager', 'keeper'])""",
                         (hash_token(old_token),))
            conn.execute("INSERT INTO user_role_changes (name, change, role) VALUES ('old-depot', 'revoke', 'inspector')")
        migrate(url, settings)
        with connect(url) as conn:
            states = conn.execute("SELECT code, state, lot, decided_at FROM intake_batches ORDER BY code").fetchall()
            b_history = [d["state"] for d in batches.decisions(conn, "RK-B")]
            decided = conn.execute("SELECT state, decided_by, note FROM approvals ORDER BY id").fetchall()
            user = user_for_token(conn, old_token)
            roles = current_roles(conn, "old-depot", "OLD1")
            moved = conn.execute("SELECT granary, settled_at, settlement FROM lots WHERE lot = 'L-MOVED'").fetchone()
            moved_card = conn.execute("SELECT card_granary FROM lot_cards WHERE lot = 'L-MOVED'").fetchone()[0]
            settled_by = conn.execute("SELECT by_user FROM lot_settlements WHERE lot = 'L-MOVED'").fetchone()[0]
            history = [(c, r, sc) for c, r, sc, _at in role_history(conn, "old-depot")]
    assert states == [("RK-A", "accepted", "L-OLD", datetime(2026, 7, 1, 11, tzinfo=UTC)),
                      ("RK-B", "refused", None, datetime(2026, 7, 2, 10, tzinfo=UTC)),
                      ("RK-C", "arrived", None, None)]
    assert b_history == ["pretreatment", "refused"]
    assert moved == ("P02", datetime(2026, 6, 1, tzinfo=UTC), {"cleared_on": "2026-05-30"})
    assert moved_card == "P01" and settled_by == "k2"
    assert decided == [("approved", "m", "同意"), ("pending", None, None)]
    assert user.roles == {"keeper", "manager"} and user.can_write and roles == ("manager", "keeper")
    assert history == [("revoke", "inspector", "OLD1"), ("grant", "manager", "OLD1"), ("grant", "keeper", "OLD1")]

