import { mount } from "@vue/test-utils";
import { describe, expect, it } from "vitest";
import LayerGrid from "../src/components/LayerGrid.vue";
import SortTh from "../src/components/SortTh.vue";
import { localTime, stamp, thisMonth } from "../src/format";

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

  it("computed by hand for China's zones read as Intl reads them, and the rest through Intl", () => {
    const zones = ["Asia/Shanghai", "Asia/Urumqi", "Asia/Hong_Kong", "Europe/Berlin"];
    const formats = new Map(zones.map((tz) => [tz, new Intl.DateTimeFormat("en-GB", { timeZone: tz, year: "numeric", month: "2-digit",
      day: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23" })]));
    const intl = (d: Date, tz: string) => {
      const p = Object.fromEntries(formats.get(tz)!.formatToParts(d).map((x) => [x.type, x.value]));
      return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}`;
    };
    const mismatches: string[] = [];
    for (let t = Date.UTC(1992, 0, 1); t < Date.UTC(2040, 0, 1); t += 86_400_000 * 37 + 3_600_000 * 5 + 60_000 * 7) {
      const d = new Date(t);
      for (const tz of zones) if (stamp(d, tz) !== intl(d, tz)) mismatches.push(`${d.toISOString()} ${tz}`);
    }
    expect(mismatches).toEqual([]);
    // Shanghai kept summer time until 1991: before 1992 the hand rule does not apply
    expect(stamp(new Date("1988-07-01T00:00:00Z"))).toBe("1988-07-01 09:00");
    expect(stamp(new Date("2026-12-31T16:00:00Z"))).toBe("2027-01-01 00:00");
    expect(thisMonth()).toMatch(/^\d{4}-\d{2}$/);
  });
});

describe("a sortable header of a plain table", () => {
  const header = (sort: string) => mount(SortTh, { props: { label: "名称", prop: "name", sort }, attachTo: document.createElement("tr") });
  it("goes ascending, descending, unsorted, as el-table's headers do, and tells screen readers", async () => {
    const cases: [string, string, string | null][] = [["", "none", "ascending"], ["name", "ascending", "descending"], ["-name", "descending", null], ["-other", "none", "ascending"]];
    for (const [sort, aria, next] of cases) {
      const th = header(sort);
      expect(th.attributes("aria-sort")).toBe(aria);
      await th.find("button").trigger("click");
      expect(th.emitted("sort")?.[0]).toEqual([{ prop: "name", order: next }]);
    }
  });
});
