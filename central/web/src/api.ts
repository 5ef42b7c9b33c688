// Every call goes to /api/v1 with the user's token; the API enforces scope, so the page never
// filters for security, only for display.
import { reactive } from "vue";
import { takeEarly, TOKEN_KEY as KEY } from "./early";


export const session = reactive({
  token: localStorage.getItem(KEY) ?? "",
  message: "",
});

export class ApiError extends Error {
  constructor(public status: number, message: string) {
    super(message);
  }
}

export function login(token: string): void {
  session.token = token.trim();
  session.message = "";
  localStorage.setItem(KEY, session.token);
}

export function logout(message = ""): void {
  session.token = "";
  session.message = message;
  localStorage.removeItem(KEY);
}

/** The API's `detail` as one Chinese-readable line (FastAPI 422 gives a list of problems). */
export function detailText(detail: unknown, status: number): string {
  if (typeof detail === "string") return detail;
  if (Array.isArray(detail)) {
    return detail
      .map((d: { loc?: unknown[]; msg?: string }) => {
        const field = (d.loc ?? []).filter((x) => x !== "body").join(".");
        return field ? `${field}：${d.msg ?? ""}` : (d.msg ?? "");
      })
      .join("；");
  }
  return `请求失败（HTTP ${status}）`;
}

async function request(path: string, options: { method?: string; body?: unknown } = {}): Promise<{ answer: Response; body: unknown }> {
  const headers: Record<string, string> = { Authorization: `Bearer ${session.token}` };
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  const method = options.method ?? (options.body !== undefined ? "POST" : "GET");
  const send = () => fetch(`/api/v1${path}`, {
    method, headers, body: options.body !== undefined ? JSON.stringify(options.body) : undefined,
  });
  // a GET the page asked before its code ran (early.ts): that answer, or a new request if it failed
  const early = method === "GET" ? takeEarly(path) : undefined;
  let answer: Response;
  try {
    answer = await (early ? early.catch(send) : send());
  } catch {
    throw new ApiError(0, "无法连接服务器，请检查网络");
  }
  if (answer.status === 401) {
    logout("登录已过期或令牌无效，请重新登录");
    throw new ApiError(401, session.message);
  }
  const isJson = answer.headers.get("content-type")?.includes("json");
  const body = isJson ? await answer.json() : await answer.text();
  if (!answer.ok) {
    const detail = isJson ? (body as { detail?: unknown })?.detail : undefined;
    const generic = detail === undefined || detail === "Not Found";
    throw new ApiError(answer.status, answer.status === 404 && generic
      ? "未找到（不存在或不在您的管辖范围内）" : detailText(detail, answer.status));
  }
  return { answer, body };
}

export async function api<T = any>(path: string, options: { method?: string; body?: unknown } = {}): Promise<T> {
  return (await request(path, options)).body as T;
}

/** One page of a list route and the number of rows its filters match (`X-Total-Count`). */
export interface Page<T> { rows: T[]; total: number }

export async function apiPage<T = any>(path: string): Promise<Page<T>> {
  const { answer, body } = await request(path);
  const rows = body as T[];
  const total = Number(answer.headers.get("X-Total-Count"));
  return { rows, total: Number.isFinite(total) && answer.headers.has("X-Total-Count") ? total : rows.length };
}

/** Same as `api`, but a missing route (404 with no such path) is `null`: a page can say "not available". */
export async function optional<T = any>(path: string): Promise<T | null> {
  try {
    return await api<T>(path);
  } catch (e) {
    if (e instanceof ApiError && (e.status === 404 || e.status === 405)) return null;
    throw e;
  }
}

/** Download a file (xlsx/csv/html) with the token; the browser saves it under `filename`. */
export async function download(path: string, filename: string): Promise<Blob> {
  const answer = await fetch(`/api/v1${path}`, { headers: { Authorization: `Bearer ${session.token}` } });
  if (answer.status === 401) {
    logout("登录已过期或令牌无效，请重新登录");
    throw new ApiError(401, session.message);
  }
  if (!answer.ok) {
    let text = `下载失败（HTTP ${answer.status}）`;
    try { text = detailText((await answer.json()).detail, answer.status); } catch { /* not JSON */ }
    throw new ApiError(answer.status, text);
  }
  const blob = await answer.blob();
  const link = document.createElement("a");
  link.href = URL.createObjectURL(blob);
  link.download = filename;
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 10000);
  return blob;
}

export const enc = encodeURIComponent;

/** An image of the API (stills) as an object URL: the request carries the token, an <img> cannot. */
export async function imageUrl(path: string): Promise<string | null> {
  const url = path.startsWith("/api/v1") ? path : `/api/v1${path}`;
  const answer = await fetch(url, { headers: { Authorization: `Bearer ${session.token}` } });
  if (!answer.ok) return null;
  return URL.createObjectURL(await answer.blob());
}
