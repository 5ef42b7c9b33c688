// The query of a list page the server sorts, filters and pages (GET /depots, GET /alarms):
// el-table's sort-change and el-pagination's page become `sort`, `limit` and `offset`.

export type TableOrder = "ascending" | "descending" | null | undefined;

/** el-table's sort-change ({prop, order}) as the API's `sort`: "name", "-name", or "" (its default). */
export function sortParam(prop: string | null | undefined, order: TableOrder): string {
  if (!prop || !order) return "";
  return order === "descending" ? `-${prop}` : prop;
}

/** The API's `sort` back as el-table's default-sort (so a bookmarked order shows its arrow). */
export function tableSort(sort: string): { prop: string; order: "ascending" | "descending" } | undefined {
  if (!sort) return undefined;
  return sort.startsWith("-") ? { prop: sort.slice(1), order: "descending" } : { prop: sort, order: "ascending" };
}

/** `limit`/`offset` for page `page` (from 1) of `size` rows, with the filters that are set. */
export function listQuery(page: number, size: number, params: Record<string, string | number | boolean | null | undefined>): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === null || v === undefined || v === "") continue;
    p.set(k, typeof v === "string" ? v.trim() : String(v));
  }
  p.set("limit", String(size));
  p.set("offset", String(Math.max(0, (page - 1) * size)));
  return p.toString();
}
