import { afterEach, describe, expect, it, vi } from "vitest";
import { depotOptions, depotSearch, exactDepot } from "../src/depotOptions";
import { usePagedList } from "../src/pagedList";

// (DepotSelect itself is driven in Chromium: tests/e2e/test_web_reserve_lists.py.)
// fetch answers by URL: a list body and its X-Total-Count; `gate` holds an answer back.
function stubFetch(answer: (url: string) => { rows: unknown[]; total?: number; gate?: Promise<void> }) {
  const asked: string[] = [];
  vi.stubGlobal("fetch", vi.fn(async (url: string) => {
    asked.push(url);
    const a = answer(url);
    if (a.gate) await a.gate;
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (a.total !== undefined) headers["X-Total-Count"] = String(a.total);
    return new Response(JSON.stringify(a.rows), { status: 200, headers });
  }));
  return asked;
}
afterEach(() => vi.unstubAllGlobals());

describe("the depot picker's options", () => {
  const hits = [{ depot: "D1", name: "一号库" }, { depot: "D2", name: null }];
  it("label each hit by name and code, the chosen depot last when the search missed it", () => {
    expect(depotOptions(hits, null)).toEqual([{ value: "D1", label: "一号库（D1）" }, { value: "D2", label: "D2" }]);
    expect(depotOptions(hits, { depot: "D9", name: "九号库" }).map((o) => o.label)).toEqual(["一号库（D1）", "D2", "九号库（D9）"]);
    expect(depotOptions(hits, { depot: "D1", name: "一号库" })).toHaveLength(2); // not twice
  });
  it("search 20 at a time by what was typed, and find the chosen code among hits", () => {
    const p = new URLSearchParams(depotSearch(" 湘 ").split("?")[1]);
    expect(p.get("q")).toBe("湘");
    expect(p.get("limit")).toBe("20");
    expect(new URLSearchParams(depotSearch("").split("?")[1]).has("q")).toBe(false);
    expect(exactDepot([{ depot: "D10", name: "十" }, { depot: "D1", name: "一" }], "D1")).toEqual({ depot: "D1", name: "一" });
    expect(exactDepot([{ depot: "D10", name: "十" }], "D1")).toEqual({ depot: "D1", name: null });
  });
});

describe("a list paged by the server", () => {
  it("asks for the page and sort, takes the total from X-Total-Count and goes back to page 1 on a new sort", async () => {
    const asked = stubFetch(() => ({ rows: [{ lot: "L1" }], total: 120 }));
    const list = usePagedList<{ lot: string }>("/lots", () => ({ state: "open", depot: "" }), 50);
    list.page.value = 3;
    await list.reload();
    const first = new URLSearchParams(asked[0].split("?")[1]);
    expect([first.get("offset"), first.get("limit"), first.get("state"), first.has("depot")]).toEqual(["100", "50", "open", false]);
    expect([list.total.value, list.rows.value, list.loaded.value, list.loading.value]).toEqual([120, [{ lot: "L1" }], true, false]);
    await list.onSort({ prop: "balance_t", order: "descending" });
    const second = new URLSearchParams(asked[1].split("?")[1]);
    expect([second.get("sort"), second.get("offset"), list.page.value]).toEqual(["-balance_t", "0", 1]);
  });

  it("drops a slower answer to an older question", async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    stubFetch((url) => (url.includes("offset=0") ? { rows: [{ n: "old" }], total: 2, gate } : { rows: [{ n: "new" }], total: 2 }));
    const list = usePagedList<{ n: string }>("/batches", () => ({}), 1);
    const slow = list.reload();
    list.page.value = 2;
    await list.reload();
    release();
    await slow;
    expect(list.rows.value).toEqual([{ n: "new" }]);
    expect(list.loading.value).toBe(false);
  });
});
