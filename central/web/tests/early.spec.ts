import { flushPromises, mount } from "@vue/test-utils";
import { afterEach, describe, expect, it, vi } from "vitest";
import { api } from "../src/api";
import { createMemoryHistory, createRouter } from "vue-router";
import DepotTable from "../src/components/DepotTable.vue";
import Alarms from "../src/pages/Alarms.vue";
import { earlyPaths, startEarly, takeEarly } from "../src/early";
import { pageLoader, PAGES } from "../src/pageLoaders";

// fetch answers every URL with an empty list, counting the questions
function stubFetch(fail = false) {
  const asked: string[] = [];
  vi.stubGlobal("fetch", vi.fn(async (url: string) => {
    asked.push(url);
    if (fail && asked.length === 1) throw new TypeError("network down");
    return new Response("[]", { status: 200, headers: { "content-type": "application/json", "X-Total-Count": "0" } });
  }));
  return asked;
}
afterEach(() => {
  vi.unstubAllGlobals();
  vi.useRealTimers();
});

describe("the first page's early requests", () => {
  it("are the overview's counts and first depot page, in its region when one is chosen", () => {
    expect(earlyPaths("/", "")).toEqual(["/me", "/overview", "/depots?limit=20&offset=0"]);
    expect(earlyPaths("/", "?region=430100")).toEqual(["/me", "/overview?region=430100", "/depots?region=430100&limit=20&offset=0"]);
    expect(earlyPaths("/", "?region=43;drop")).toEqual(["/me", "/overview", "/depots?limit=20&offset=0"]);
    expect(earlyPaths("/alarms", "")).toEqual(["/me", "/alarms?state=open&limit=50&offset=0"]);
    expect(earlyPaths("/alarms", "?state=cleared")).toEqual(["/me"]);
    expect(earlyPaths("/stock", "")).toEqual(["/me"]);
  });

  it("match what the depot table asks for, so its first answer is the early one", async () => {
    const asked = stubFetch();
    mount(DepotTable, { global: { stubs: { RouterLink: true } } });
    await flushPromises();
    expect(asked).toEqual([`/api/v1${earlyPaths("/", "")[2]}`]);
  });

  it("match what the alarm list asks for unfiltered", async () => {
    const asked = stubFetch();
    const router = createRouter({ history: createMemoryHistory(), routes: [{ path: "/alarms", component: Alarms }, { path: "/alarm/:id", component: Alarms }] });
    await router.push("/alarms");
    mount(Alarms, { global: { plugins: [router] } });
    await flushPromises();
    expect(asked).toEqual([`/api/v1${earlyPaths("/alarms", "")[1]}`]);
  }, 30_000); // the page's select and date components take a while to build in happy-dom

  it("are answered once: the page's request takes the early answer, a later one asks again", async () => {
    const asked = stubFetch();
    startEarly(["/overview"], "glk_t");
    expect(asked).toEqual(["/api/v1/overview"]);
    await api("/overview");
    expect(asked).toHaveLength(1);
    await api("/overview");
    expect(asked).toHaveLength(2);
  });

  it("are asked again when the early request failed or is stale", async () => {
    const asked = stubFetch(true);
    startEarly(["/me"], "glk_t");
    await expect(api("/me")).resolves.toEqual([]);
    expect(asked).toEqual(["/api/v1/me", "/api/v1/me"]);
    vi.useFakeTimers();
    startEarly(["/overview"], "glk_t");
    vi.advanceTimersByTime(11_000);
    expect(takeEarly("/overview")).toBeUndefined();
  });
});

describe("the lazy pages", () => {
  it("are found by address as the router matches them", () => {
    expect(pageLoader("/alarms")).toBe(PAGES["/alarms"]);
    expect(pageLoader("/alarm/12")).toBe(PAGES["/alarm/:id"]);
    expect(pageLoader("/granary/HN-1/P01")).toBe(PAGES["/granary/:depot/:granary"]);
    expect(pageLoader("/")).toBeUndefined(); // the overview is in the first chunk
    expect(pageLoader("/alarm")).toBeUndefined();
    expect(pageLoader("/no/such/page")).toBeUndefined();
  });

  it("are the router's: one table for both", async () => {
    const { router } = await import("../src/router");
    const lazy = router.getRoutes().filter((r) => r.path in PAGES);
    expect(lazy).toHaveLength(Object.keys(PAGES).length);
    for (const r of lazy) expect(r.components?.default).toBe(PAGES[r.path as keyof typeof PAGES]);
  });
});
