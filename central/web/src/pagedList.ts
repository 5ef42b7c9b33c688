// A table the server sorts and pages (GET /lots, /batches, /approvals, /checks, like /alarms):
// one page of rows travels, the total comes in X-Total-Count; el-table's sort-change and
// el-pagination's page become `sort`, `limit` and `offset`.
import { ref, shallowRef } from "vue";
import { apiPage } from "./api";
import { listQuery, sortParam, type TableOrder } from "./listQuery";

type Params = Record<string, string | number | boolean | null | undefined>;

/** `path` the list route, `params` its filters (read at each load), `size` rows per page. */
export function usePagedList<T>(path: string, params: () => Params, size = 50, initialSort = "") {
  const rows = shallowRef<T[]>([]);
  const total = ref(0);
  const page = ref(1);
  const sort = ref(initialSort);
  const loading = ref(false);
  const loaded = ref(false);
  const error = ref("");
  let asked = 0;

  async function reload() {
    const mine = ++asked; // a slower answer to an older question is dropped
    loading.value = true;
    error.value = "";
    try {
      const answer = await apiPage<T>(`${path}?${listQuery(page.value, size, { ...params(), sort: sort.value })}`);
      if (mine !== asked) return;
      rows.value = answer.rows;
      total.value = answer.total;
      loaded.value = true;
    } catch (e) {
      if (mine === asked) error.value = (e as Error).message;
    } finally {
      if (mine === asked) loading.value = false;
    }
  }
  /** New filters: back to the first page. */
  function apply() {
    page.value = 1;
    return reload();
  }
  function onSort({ prop, order }: { prop: string | null; order: TableOrder }) {
    sort.value = sortParam(prop, order);
    return apply();
  }
  return { rows, total, page, sort, size, loading, loaded, error, reload, apply, onSort };
}
