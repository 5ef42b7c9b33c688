import { describe, expect, it } from "vitest";
import { crossSection, trendCharts } from "../src/granaryCharts";

const history = {
  granary_stats: [{ ts: "2026-11-22T00:00:00Z", min: 14, max: 31.5, mean: 16 }],
  indoor: [{ ts: "2026-11-22T00:00:00Z", temp_mean: 17.9, rh_mean: 63.5 }],
  outdoor: [{ ts: "2026-11-22T00:00:00Z", temp_mean: 9.5, rh_mean: 71 }],
};

describe("三温两湿", () => {
  it("draw grain max/mean/min, indoor and outdoor temperature and both humidities", () => {
    const t = trendCharts(history);
    expect(t.names).toEqual(["粮温最高", "粮温平均", "粮温最低", "仓温", "气温", "仓湿", "气湿"]);
    expect(t.hasTemperature).toBe(true);
    expect(t.hasHumidity).toBe(true);
    const humidity = (t.humidity.series as { name: string; data: [number, number | null][] }[]);
    expect(humidity.map((s) => s.data[0][1])).toEqual([63.5, 71]);
  });

  it("say there is no humidity only when no humidity value exists", () => {
    const dry = { ...history, indoor: [{ ts: "2026-11-22T00:00:00Z", temp_mean: 17.9, rh_mean: null }], outdoor: [] };
    expect(trendCharts(dry).hasHumidity).toBe(false);
    const indoorOnly = { ...history, outdoor: [] };
    expect(trendCharts(indoorOnly).hasHumidity).toBe(true);
  });
});

describe("cross-section", () => {
  it("places one row's cables across and layers down, leaving faults out", () => {
    const cables = [
      { cable: 2, row: 1, col: 2, temps_c: [15, 16], faults: [2] },
      { cable: 1, row: 1, col: 1, temps_c: [14, 15], faults: [] },
      { cable: 3, row: 2, col: 1, temps_c: [20, 21], faults: [] },
    ];
    const option = crossSection(cables, 1, 14, 16) as any;
    expect(option.xAxis.data).toEqual(["1号", "2号"]);
    expect(option.yAxis.data).toEqual(["第1层", "第2层"]);
    expect(option.series[0].data).toEqual([[0, 0, 14], [0, 1, 15], [1, 0, 15]]);
  });
});
