"""Intake by batch through the API (domain.md §8): codes, every step with who and when, the
five refusals by name, pretreatment and re-test, exceptions under four eyes, refused batches
kept on record, bad input named."""

from __future__ import annotations

import re


def test_batch_walks_from_arrival_to_the_lot_with_every_step_recorded(api, world):
    lot = api.lot("IN")
    code = api.batch()
    assert re.fullmatch(rf"RK20251110-{world.a}-\d{{6}}", code)
    assert api.batch() != code                          # every batch its own code
    r = api.post(f"/batches/{code}/accept", {"lot": lot, "quantity_t": 30, "date": "2025-11-10"})
    assert r.status_code == 409 and r.json()["detail"].startswith("not_tested")
    api.post(f"/batches/{code}/tests", {"kind": "sampling", "note": "扦样 3 点"})
    api.test(code, 13.2, 0.6)                           # 0.7 points above wheat's 12.5 %
    r = api.post(f"/batches/{code}/accept", {"lot": lot, "quantity_t": 30, "date": "2025-11-10"})
    assert r.status_code == 409 and r.json()["detail"].startswith("moisture_above_safe")
    assert api.post(f"/batches/{code}/pretreat", {"reason": "烘干"}).status_code == 200
    # after pretreatment the old result no longer opens the gate
    r = api.post(f"/batches/{code}/accept", {"lot": lot, "quantity_t": 30, "date": "2025-11-11"})
    assert r.status_code == 409 and r.json()["detail"].startswith("not_tested")
    api.test(code, 12.4, 0.6)
    api.post(f"/batches/{code}/tests", {"kind": "chemical", "passed": True})
    api.test(code, 12.3, 0.5, kind="recheck")
    r = api.post(f"/batches/{code}/accept", {"lot": lot, "quantity_t": 30, "date": "2025-11-11"})
    assert r.status_code == 200, r.text
    batch = r.json()
    assert batch["state"] == "accepted" and batch["lot"] == lot
    steps = [s["step"] for s in batch["steps"]]
    assert steps == ["registered", "sampling", "physical", "pretreatment", "physical", "chemical",
                     "recheck", "accepted"]
    assert all(s["by"] and s["at"] for s in batch["steps"])
    again = api.post(f"/batches/{code}/accept", {"lot": lot, "quantity_t": 30, "date": "2025-11-11"})
    assert again.status_code == 409
    view = api.get(f"/lots/{lot}").json()
    assert view["balance_t"] == 30 and view["movements"][0]["batch_code"] == code
    assert view["movements"][0]["moisture_pct"] == 12.3        # the re-check is what went in
    assert api.get(f"/batches/{code}").json()["steps"][-1]["detail"]["lot"] == lot


def test_each_refusal_names_its_rule(api):
    wheat = api.lot("REF", granary="P02", cell=None)        # P02: 1000 t design capacity
    dirty = api.batch()
    api.test(dirty, 12.0, 1.2)
    r = api.post(f"/batches/{dirty}/accept", {"lot": wheat, "quantity_t": 10, "date": "2025-11-10"})
    assert r.status_code == 409 and r.json()["detail"].startswith("impurity_above_limit")
    maize = api.batch(variety="maize")
    api.test(maize, 13.0, 0.5)
    r = api.post(f"/batches/{maize}/accept", {"lot": wheat, "quantity_t": 10, "date": "2025-11-10"})
    assert r.status_code == 409 and r.json()["detail"].startswith("mixed_lot")
    big = api.batch()
    api.test(big, 12.0, 0.5)
    r = api.post(f"/batches/{big}/accept", {"lot": wheat, "quantity_t": 1000.001, "date": "2025-11-10"})
    assert r.status_code == 409 and r.json()["detail"].startswith("over_capacity")
    assert api.post(f"/batches/{big}/accept", {"lot": wheat, "quantity_t": 1000,
                                               "date": "2025-11-10"}).status_code == 200
    # a second open lot in the same granary would mix
    other = api.lot("REF2", granary="P02", cell=None)
    grade = api.batch()
    api.test(grade, 12.0, 0.5)
    r = api.post(f"/batches/{grade}/accept", {"lot": other, "quantity_t": 1, "date": "2025-11-10"})
    assert r.status_code == 409 and r.json()["detail"].startswith("mixed_lot")
    # refused: final, kept with its reason
    assert api.post(f"/batches/{dirty}/refuse", {"reason": "杂质超标，退回"}).status_code == 200
    kept = api.get(f"/batches/{dirty}").json()
    assert kept["state"] == "refused" and kept["reason"] == "杂质超标，退回"
    assert api.post(f"/batches/{dirty}/tests", {"kind": "physical", "moisture_pct": 12,
                                                "impurity_pct": 0.5}).status_code == 409
    assert dirty in [b["code"] for b in api.get("/batches", state="refused").json()]


def test_an_exception_needs_a_supervisor_and_never_beyond_three_points(api):
    lot = api.lot("EXC", granary="P03")
    wet = api.batch()
    api.test(wet, 13.0, 0.5)
    r = api.post(f"/batches/{wet}/accept", {"lot": lot, "quantity_t": 50, "date": "2025-11-12",
                                            "exception_reason": "晴好天气，入仓后立即通风降水"})
    assert r.status_code == 202 and r.json()["state"] == "pending" and r.json()["rule"] == "moisture_above_safe"
    approval = r.json()["approval"]
    assert api.post(f"/approvals/{approval}/approve").status_code == 403             # the requester
    assert api.post(f"/approvals/{approval}/approve", who="manager").status_code == 403   # role
    assert api.post(f"/approvals/{approval}/approve", who="sup_b").status_code == 404     # scope
    assert api.get(f"/lots/{lot}").json()["balance_t"] == 0
    r = api.post(f"/approvals/{approval}/approve", {"note": "同意"}, who="sup")
    assert r.status_code == 200 and r.json()["state"] == "approved" and r.json()["decided_by"]
    assert api.get(f"/lots/{lot}").json()["balance_t"] == 50
    assert api.get(f"/batches/{wet}").json()["state"] == "accepted"
    assert api.post(f"/approvals/{approval}/approve", who="sup2").status_code == 409
    soaked = api.batch()
    api.test(soaked, 15.6, 0.5)                                  # 3.1 points above safe
    r = api.post(f"/batches/{soaked}/accept", {"lot": lot, "quantity_t": 5, "date": "2025-11-12",
                                               "exception_reason": "急需入仓"})
    assert r.status_code == 409 and r.json()["detail"].startswith("moisture_above_safe")


def test_outbound_batch_takes_out_of_the_lot(api):
    lot = api.lot("OUT", granary="P03", variety="maize")
    assert api.move(lot, "in", 100, 13.0, 0.5).status_code == 201
    code = api.batch(variety="maize", direction="out", arrived="2026-03-01T02:00:00Z")
    assert code.startswith("CK20260301-")
    api.test(code, 12.8, 0.4)
    r = api.post(f"/batches/{code}/accept", {"lot": lot, "quantity_t": 40, "date": "2026-03-01"})
    assert r.status_code == 200, r.text
    assert api.get(f"/lots/{lot}").json()["balance_t"] == 60


def test_bad_batch_input_is_named(api, world):
    base = {"depot": world.a, "direction": "in", "category": "raw_grain", "variety": "wheat",
            "arrived_at": "2025-11-10T01:00:00Z"}
    for change, field in [({"arrived_at": "2999-01-01T00:00:00Z"}, "arrived_at"),
                          ({"arrived_at": "1999-12-31T00:00:00Z"}, "arrived_at"),
                          ({"direction": "sideways"}, "direction"),
                          ({"variety": ""}, "variety")]:
        r = api.post("/batches", base | change)
        assert r.status_code == 422 and field in r.json()["detail"], (change, r.text)
    code = api.batch()
    r = api.post(f"/batches/{code}/tests", {"kind": "physical", "moisture_pct": -1, "impurity_pct": 0.5})
    assert r.status_code == 422 and "moisture_pct" in r.json()["detail"]
    r = api.post(f"/batches/{code}/tests", {"kind": "physical", "impurity_pct": 0.5})
    assert r.status_code == 422 and "moisture_pct" in r.json()["detail"]
    r = api.post(f"/batches/{code}/accept", {"lot": "nope", "quantity_t": "NaN", "date": "2025-11-10"})
    assert r.status_code == 422 and "quantity_t" in r.json()["detail"]
    assert api.get("/batches/RK-nothing").status_code == 404
    # another city's supervisor does not see the batch
    assert api.get(f"/batches/{code}", who="sup_b").status_code == 404
    assert api.post("/batches", base, who="viewer").status_code == 403


def test_a_failed_food_safety_test_keeps_the_batch_out(api):
    lot = api.lot("CHEM", granary="P03", variety="rapeseed", category="oilseed")
    code = api.batch(variety="rapeseed")
    api.test(code, 7.5, 0.4, passed=False)            # the inspector's note: the numbers decide
    api.post(f"/batches/{code}/tests", {"kind": "chemical", "passed": False, "note": "黄曲霉毒素超标"})
    r = api.post(f"/batches/{code}/accept", {"lot": lot, "quantity_t": 20, "date": "2025-11-10"})
    assert r.status_code == 409 and r.json()["detail"].startswith("not_tested") and "化检" in r.json()["detail"]


def test_one_lot_per_granary_or_recorded_cell(api):
    first = api.lot("ONE", granary="P04", variety="maize", cell=None)
    second = api.lot("TWO", granary="P04", variety="maize", cell=None)
    assert api.move(first, "in", 100, 13.0, 0.5).status_code == 201
    r = api.move(second, "in", 10, 13.0, 0.5)                   # the granary already holds a lot
    assert r.status_code == 409 and r.json()["detail"].startswith("mixed_lot")
    assert first.split("-")[0] in r.json()["detail"] and "四落实" in r.json()["detail"]
    celled = api.lot("CELLA", granary="P04", variety="maize", cell="A1")
    assert api.move(celled, "in", 10, 13.0, 0.5).status_code == 201   # a recorded cell of its own
