// The depot picker's options: a page of search results from GET /depots?q=&limit=20, with the
// chosen depot kept after them so its name shows even when the search did not return it
// (after, so the first option is still the best match for what was typed).

export interface DepotHit { depot: string; name: string | null }
export interface DepotOption { value: string; label: string }

export const PICK_LIMIT = 20;

export function depotLabel(d: DepotHit): string {
  return d.name && d.name !== d.depot ? `${d.name}（${d.depot}）` : d.depot;
}

/** The options for `hits`, then the chosen depot when the hits do not hold it. */
export function depotOptions(hits: DepotHit[], chosen: DepotHit | null): DepotOption[] {
  const list = chosen && !hits.some((h) => h.depot === chosen.depot) ? [...hits, chosen] : hits;
  return list.map((d) => ({ value: d.depot, label: depotLabel(d) }));
}

/** The search a typed text asks for (a code or a name; empty: the first page). */
export function depotSearch(text: string): string {
  const p = new URLSearchParams({ limit: String(PICK_LIMIT), sort: "depot" });
  if (text.trim()) p.set("q", text.trim());
  return `/depots?${p}`;
}

/** The chosen code's own row among hits of a search for it (q matches within codes too). */
export function exactDepot(hits: DepotHit[], code: string): DepotHit {
  return hits.find((h) => h.depot === code) ?? { depot: code, name: null };
}
