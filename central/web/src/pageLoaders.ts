// The pages loaded on first visit, by route path (router.ts builds its routes from this table).
// No static import here: early.ts starts the chunk of the page the address names before the
// rest of the app's code runs, so the page's code loads beside its data, not after the app.
export const PAGES = {
  "/login": () => import("./pages/Login.vue"),
  "/depots": () => import("./pages/Depots.vue"),
  "/depot/:depot": () => import("./pages/Depot.vue"),
  "/granary/:depot/:granary": () => import("./pages/Granary.vue"),
  "/intake": () => import("./pages/Intake.vue"),
  "/batch/:code": () => import("./pages/Batch.vue"),
  "/stock": () => import("./pages/Stock.vue"),
  "/lot/:lot": () => import("./pages/Lot.vue"),
  "/counts": () => import("./pages/Counts.vue"),
  "/plans": () => import("./pages/Plans.vue"),
  "/alarms": () => import("./pages/Alarms.vue"),
  "/alarm/:id": () => import("./pages/Alarm.vue"),
  "/inspections": () => import("./pages/Inspections.vue"),
  "/approvals": () => import("./pages/Approvals.vue"),
  "/reports": () => import("./pages/Reports.vue"),
  "/video": () => import("./pages/Video.vue"),
  "/devices": () => import("./pages/Devices.vue"),
};
export const NOT_FOUND = () => import("./pages/NotFound.vue");

/** The loader of the lazy page at `pathname` (":name" matches one segment), if there is one. */
export function pageLoader(pathname: string): (() => Promise<unknown>) | undefined {
  const parts = pathname.split("/").filter(Boolean);
  for (const [path, load] of Object.entries(PAGES)) {
    const pattern = path.split("/").filter(Boolean);
    if (pattern.length === parts.length && pattern.every((p, i) => p.startsWith(":") || p === parts[i])) return load;
  }
  return undefined;
}
