// Each depot's own time zone (the depot record's `timezone`, Asia/Shanghai unless it says
// otherwise), fetched once per depot and shared by the pages.
import { reactive } from "vue";
import { api, enc } from "./api";
import { DEFAULT_TZ } from "./format";

export const zones = reactive<Record<string, string>>({});
const pending = new Map<string, Promise<string>>();

export function depotZone(depot: string): Promise<string> {
  if (zones[depot]) return Promise.resolve(zones[depot]);
  if (!pending.has(depot)) {
    pending.set(depot, api<{ timezone?: string }>(`/depots/${enc(depot)}/device`)
      .then((d) => (zones[depot] = d.timezone || DEFAULT_TZ))
      .catch(() => DEFAULT_TZ));
  }
  return pending.get(depot)!;
}

/** The zone to show this depot's times in: its own once known, the default until then. */
export function zoneOf(depot: string | null | undefined): string {
  if (!depot) return DEFAULT_TZ;
  if (!zones[depot]) void depotZone(depot);
  return zones[depot] ?? DEFAULT_TZ;
}
