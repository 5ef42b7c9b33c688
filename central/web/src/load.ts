import { ElMessage } from "element-plus";
import { ref, shallowRef, type Ref } from "vue";
import { ApiError } from "./api";

/** A page's data with its loading and error state; `reload()` fetches again. */
export function useLoad<T>(fn: () => Promise<T>, immediate = true) {
  const data = shallowRef<T | null>(null) as Ref<T | null>;
  const loading = ref(false);
  const error = ref("");
  async function reload() {
    loading.value = true;
    error.value = "";
    try {
      data.value = await fn();
    } catch (e) {
      error.value = e instanceof Error ? e.message : String(e);
    } finally {
      loading.value = false;
    }
  }
  if (immediate) reload();
  return { data, loading, error, reload };
}

/** Run a write; the API's message (Chinese) is shown on failure, `done` on success. */
export async function act<T>(fn: () => Promise<T>, done = "已保存"): Promise<T | null> {
  try {
    const result = await fn();
    if (done) ElMessage.success(done);
    return result;
  } catch (e) {
    if (!(e instanceof ApiError && e.status === 401)) ElMessage.error({ message: (e as Error).message, duration: 6000 });
    return null;
  }
}
