import { describe, expect, it } from "vitest";
import { listQuery, sortParam, tableSort } from "../src/listQuery";

describe("a list the server pages", () => {
  it("turns el-table's sort into the API's sort and back", () => {
    expect(sortParam("active_alarms", "descending")).toBe("-active_alarms");
    expect(sortParam("name", "ascending")).toBe("name");
    expect(sortParam("name", null)).toBe("");
    expect(tableSort("-active_alarms")).toEqual({ prop: "active_alarms", order: "descending" });
    expect(tableSort("")).toBeUndefined();
  });

  it("asks for one page with the filters that are set", () => {
    const q = new URLSearchParams(listQuery(3, 20, { q: " 粮库 ", state: "", sort: "-name", region: null }));
    expect(q.get("limit")).toBe("20");
    expect(q.get("offset")).toBe("40");
    expect(q.get("q")).toBe("粮库");
    expect(q.get("sort")).toBe("-name");
    expect(q.has("state")).toBe(false);
    expect(q.has("region")).toBe(false);
    expect(new URLSearchParams(listQuery(0, 50, {})).get("offset")).toBe("0");
  });
});
