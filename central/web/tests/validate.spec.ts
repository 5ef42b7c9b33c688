import { describe, expect, it } from "vitest";
import { countPreview, validateAccept, validateBatch, validateCount, validateTest } from "../src/validate";

describe("form checks mirror the API's limits", () => {
  it("batch registration needs depot, variety and a date in 2000–2100", () => {
    expect(validateBatch({ depot: "HN-1", direction: "in", category: "raw_grain", variety: "wheat", arrived_at: "2026-11-22T08:00:00Z" })).toEqual({});
    const p = validateBatch({ depot: "", direction: "in", category: "raw_grain", variety: " ", arrived_at: "1999-01-01T00:00:00Z" });
    expect(Object.keys(p).sort()).toEqual(["arrived_at", "depot", "variety"]);
  });

  it("tests: moisture and impurity 0 ≤ x < 100, required for a physical test", () => {
    expect(validateTest({ kind: "physical", moisture_pct: "12.8", impurity_pct: "0.6" })).toEqual({});
    expect(validateTest({ kind: "physical", moisture_pct: "100", impurity_pct: "" })).toEqual({
      moisture_pct: "水分须小于 100", impurity_pct: "请填写杂质" });
    expect(validateTest({ kind: "chemical" })).toEqual({});
  });

  it("acceptance: quantity above 0 with at most 3 decimals", () => {
    expect(validateAccept({ lot: "W-1", quantity_t: "30.125", date: "2026-11-22" })).toEqual({});
    expect(validateAccept({ lot: "W 1", quantity_t: "0", date: "2026-11-22" })).toEqual({ lot: "请选择货位", quantity_t: "数量须大于 0" });
    expect(validateAccept({ lot: "W-1", quantity_t: "1.2345", date: "2026-11-22" }).quantity_t).toBe("数量最多 3 位小数");
  });

  it("count: a flat pile needs length, width, height, test weight and factor", () => {
    const ok = { date: "2026-08-15", method: "measure", shape: "flat", length_m: "60", width_m: "24", height_m: "4.5",
      test_weight_g_l: "750", correction_factor: "1.02", moisture_pct: "12.0", impurity_pct: "0.9" };
    expect(validateCount(ok)).toEqual({});
    expect(Object.keys(validateCount({ ...ok, width_m: "", correction_factor: "9" })).sort()).toEqual(["correction_factor", "width_m"]);
  });

  it("count preview: domain.md §9's example pile is 4957.2 t", () => {
    const p = countPreview({ method: "measure", shape: "flat", length_m: "60", width_m: "24", height_m: "4.5",
      test_weight_g_l: "750", correction_factor: "1.02" });
    expect(p!.volume_m3).toBeCloseTo(6480, 6);
    expect(p!.counted_t).toBeCloseTo(4957.2, 6);
  });
});
