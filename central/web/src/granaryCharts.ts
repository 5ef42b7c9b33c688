// 三温两湿 curves and the pile cross-section as ECharts options, pure so they are tested alone.

export interface Bucket { ts: string; min: number | null; max: number | null; mean: number | null }
export interface AirBucket { ts: string; temp_mean: number | null; rh_mean: number | null }
export interface History { granary_stats: Bucket[]; indoor: AirBucket[]; outdoor: AirBucket[] }

type Point = [number, number | null];
const series = (list: { ts: string }[] | undefined, pick: (b: any) => number | null): Point[] =>
  (list ?? []).map((b) => [Date.parse(b.ts), pick(b)]);
const hasValues = (points: Point[]) => points.some(([, v]) => v !== null && v !== undefined);

const line = (name: string, data: Point[], colour: string, yAxisIndex = 0, dashed = false) => ({
  name, type: "line", data, yAxisIndex, showSymbol: data.length < 60, connectNulls: false,
  lineStyle: { color: colour, width: 1.8, type: dashed ? "dashed" : "solid" }, itemStyle: { color: colour },
});

const timeAxis = (tz: string) => ({
  type: "time",
  axisLabel: {
    formatter: (value: number) => new Intl.DateTimeFormat("zh-CN", { timeZone: tz, month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", hour12: false }).format(new Date(value)),
  },
});

export interface TrendCharts { temperature: Record<string, unknown>; humidity: Record<string, unknown>;
  hasTemperature: boolean; hasHumidity: boolean; names: string[] }

/** Two charts: the three temperatures (grain max/mean/min, indoor, outdoor) and the two humidities. */
export function trendCharts(h: History, tz = "Asia/Shanghai"): TrendCharts {
  const temps = [
    line("粮温最高", series(h.granary_stats, (b) => b.max), "#c0392b"),
    line("粮温平均", series(h.granary_stats, (b) => b.mean), "#e67e22"),
    line("粮温最低", series(h.granary_stats, (b) => b.min), "#2980b9"),
    line("仓温", series(h.indoor, (b) => b.temp_mean), "#8e44ad", 0, true),
    line("气温", series(h.outdoor, (b) => b.temp_mean), "#16a085", 0, true),
  ];
  const rh = [
    line("仓湿", series(h.indoor, (b) => b.rh_mean), "#8e44ad"),
    line("气湿", series(h.outdoor, (b) => b.rh_mean), "#16a085"),
  ];
  const base = (title: string, unit: string, list: ReturnType<typeof line>[]) => ({
    title: { text: title, left: 0, textStyle: { fontSize: 14 } },
    tooltip: { trigger: "axis", valueFormatter: (v: number | null) => (v == null ? "—" : `${v.toFixed(1)} ${unit}`) },
    legend: { top: 0, right: 0, data: list.map((s) => s.name) },
    grid: { left: 48, right: 16, top: 48, bottom: 40 },
    xAxis: timeAxis(tz),
    yAxis: { type: "value", name: unit, scale: true },
    dataZoom: [{ type: "inside" }],
    series: list,
  });
  return {
    temperature: base("三温（粮温、仓温、气温）", "℃", temps),
    humidity: base("两湿（仓湿、气湿）", "%RH", rh),
    hasTemperature: temps.some((s) => hasValues(s.data)),
    hasHumidity: rh.some((s) => hasValues(s.data)),
    names: [...temps, ...rh].map((s) => s.name),
  };
}

export interface CableScan { cable: number; row: number | null; col: number | null; temps_c: (number | null)[]; faults: number[] }

/** A vertical cut through one row of cables: columns across, layers down (layer 1 = top). */
export function crossSection(cables: CableScan[], row: number, lo: number, hi: number): Record<string, unknown> {
  const inRow = cables.filter((c) => (c.row ?? 1) === row).sort((a, b) => (a.col ?? a.cable) - (b.col ?? b.cable));
  const layers = Math.max(1, ...inRow.map((c) => c.temps_c.length));
  const data: [number, number, number | string][] = [];
  inRow.forEach((c, x) => {
    for (let layer = 1; layer <= layers; layer++) {
      const t = c.temps_c[layer - 1];
      if (t !== null && t !== undefined && !(c.faults ?? []).includes(layer)) data.push([x, layer - 1, t]);
    }
  });
  return {
    tooltip: { formatter: (p: { value: [number, number, number] }) =>
      `${inRow[p.value[0]]?.cable}号电缆 第${p.value[1] + 1}层：${p.value[2].toFixed(1)} ℃` },
    grid: { left: 60, right: 80, top: 16, bottom: 40 },
    xAxis: { type: "category", name: "电缆", data: inRow.map((c) => `${c.cable}号`) },
    yAxis: { type: "category", name: "层", inverse: true, data: Array.from({ length: layers }, (_, i) => `第${i + 1}层`) },
    visualMap: { min: lo, max: hi, calculable: true, orient: "vertical", right: 0, top: "middle", text: ["℃", ""],
      inRange: { color: ["#2c7bb6", "#abd9e9", "#ffffbf", "#fdae61", "#d7191c"] } },
    series: [{ type: "heatmap", data, label: { show: true, formatter: (p: { value: number[] }) => p.value[2].toFixed(1) } }],
  };
}
