// The first page's questions to the API, and its chunk when it is a lazy page, leave before the
// app's code runs: main.ts imports this module first, so they travel while Vue and Element Plus
// initialise and the shell mounts (a few hundred milliseconds on a busy 2-core machine), instead
// of after. api.ts takes each answer once, for the same path, when the page asks for it; nothing
// here depends on the app.
import { listQuery } from "./listQuery";
import { pageLoader } from "./pageLoaders";

/** Where the login token is kept (api.ts writes it). */
export const TOKEN_KEY = "grainlink-token";
// rows of the first page: the overview's depot table (components/DepotTable.vue's default) and the alarm list
export const OVERVIEW_DEPOT_ROWS = 20;
export const ALARM_ROWS = 50;
// an answer older than this is not handed out: the page asked for something later, so fresher
const FRESH_MS = 10_000;

const pending = new Map<string, { answer: Promise<Response>; at: number }>();

/** The API paths the page at `pathname` + `search` asks first (its region from `?region=`). */
export function earlyPaths(pathname: string, search: string): string[] {
  // the alarm list unfiltered (pages/Alarms.vue's default: open alarms, first page)
  if (pathname === "/alarms" && !search) return ["/me", `/alarms?${listQuery(1, ALARM_ROWS, { state: "open" })}`];
  if (pathname !== "/") return ["/me"];
  const raw = new URLSearchParams(search).get("region");
  const region = raw && /^\d{6}$/.test(raw) ? raw : null;
  return ["/me", region ? `/overview?region=${region}` : "/overview",
    `/depots?${listQuery(1, OVERVIEW_DEPOT_ROWS, { q: "", state: "", region, sort: "" })}`];
}

/** Ask `paths` now with `token`; a failed request is dropped (the page asks again itself). */
export function startEarly(paths: string[], token: string): void {
  for (const path of paths) {
    const answer = fetch(`/api/v1${path}`, { headers: { Authorization: `Bearer ${token}` } });
    answer.catch(() => pending.delete(path));
    pending.set(path, { answer, at: Date.now() });
  }
}

/** The early answer to a GET of `path`, once; undefined when none was asked or it is stale. */
export function takeEarly(path: string): Promise<Response> | undefined {
  const early = pending.get(path);
  if (!early) return undefined;
  pending.delete(path);
  return Date.now() - early.at <= FRESH_MS ? early.answer : undefined;
}

const token = typeof localStorage !== "undefined" ? localStorage.getItem(TOKEN_KEY) : null;
if (token && typeof location !== "undefined" && !location.pathname.startsWith("/login")) {
  startEarly(earlyPaths(location.pathname, location.search), token);
  // the page's own chunk too (the router asks for the same module later: one download)
  pageLoader(location.pathname)?.().catch(() => undefined);
}
