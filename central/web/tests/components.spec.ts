import { mount } from "@vue/test-utils";
import { describe, expect, it } from "vitest";
import LayerGrid from "../src/components/LayerGrid.vue";
import { localTime } from "../src/format";

describe("LayerGrid", () => {
  const cables = [
    { cable: 1, row: 1, col: 1, temps_c: [14.1, 15], faults: [] },
    { cable: 2, row: 1, col: 2, temps_c: [31.5, null], faults: [2] },
    { cable: 3, row: 2, col: 2, temps_c: [14.3, 15], faults: [] },
  ];

  it("draws the layer as rows × columns with faults and gaps marked", () => {
    const w = mount(LayerGrid, { props: { cables, layer: 2, lo: 14, hi: 31.5, stats: { min: 15, max: 15, mean: 15 } } });
    expect(w.find("h4").text()).toBe("第 2 层（最低 15.0 / 最高 15.0 / 平均 15.0 ℃）");
    expect(w.findAll("tr")).toHaveLength(2);
    expect(w.find("td[data-cable='2']").text()).toBe("故障");
    expect(w.findAll("td.none")).toHaveLength(1); // row 2, column 1 has no cable
  });

  it("colours the hottest cell reddest", () => {
    const w = mount(LayerGrid, { props: { cables, layer: 1, lo: 14.1, hi: 31.5 } });
    const hue = (c: string) => Number(w.find(`td[data-cable='${c}']`).attributes("style")!.match(/hsl\((\d+)/)![1]);
    expect(hue("2")).toBeLessThan(hue("1"));
    expect(hue("2")).toBe(0);
  });
});

describe("times", () => {
  it("are shown in the depot's time zone", () => {
    expect(localTime("2026-11-22T00:30:00Z")).toBe("2026-11-22 08:30");
    expect(localTime("2026-11-22T00:30:00Z", "Asia/Urumqi")).toBe("2026-11-22 06:30");
    expect(localTime(null)).toBe("—");
  });
});
