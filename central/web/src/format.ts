// Times are UTC on the wire; people read them in the depot's own time zone.
export const DEFAULT_TZ = "Asia/Shanghai";

export function localTime(ts: string | null | undefined, tz: string = DEFAULT_TZ): string {
  if (!ts) return "—";
  const d = new Date(ts);
  if (Number.isNaN(d.getTime())) return String(ts);
  const parts = new Intl.DateTimeFormat("zh-CN", {
    timeZone: tz, year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", hour12: false,
  }).formatToParts(d);
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? "";
  return `${get("year")}-${get("month")}-${get("day")} ${get("hour")}:${get("minute")}`;
}

/** A number with its unit, or "—" when there is none. */
export function num(v: number | null | undefined, digits = 1, unit = ""): string {
  if (v === null || v === undefined || Number.isNaN(Number(v))) return "—";
  const text = Number(v).toFixed(digits);
  return unit ? `${text} ${unit}` : text;
}

export const tonnes = (v: number | null | undefined) => num(v, 2, "t");
export const celsius = (v: number | null | undefined) => num(v, 1, "℃");
export const percent = (v: number | null | undefined, digits = 1) => num(v, digits, "%");

export function today(tz: string = DEFAULT_TZ): string {
  return new Intl.DateTimeFormat("en-CA", { timeZone: tz }).format(new Date());
}

export function isoUtc(d: Date): string {
  return d.toISOString().replace(/\.\d+Z$/, "Z");
}

/** blue (cold) → red (hot) over the granary's own range. */
export function tempColour(t: number, lo: number, hi: number): string {
  const x = hi > lo ? Math.min(Math.max((t - lo) / (hi - lo), 0), 1) : 0.5;
  const hue = 240 - 240 * x;
  return `hsl(${hue.toFixed(0)}, 75%, ${x > 0.85 ? 55 : 70}%)`;
}
