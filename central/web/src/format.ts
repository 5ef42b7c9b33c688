// Times are UTC on the wire; people read them in the depot's own time zone.
export const DEFAULT_TZ = "Asia/Shanghai";

// The first Intl.DateTimeFormat of a page costs 30-60 ms (ICU's zone and calendar data), the
// next about a millisecond each: the zones of China's depots have kept one offset since 1992, so
// their times are computed by hand, and the formatter of any other zone is made once.
const FIXED_OFFSET_MIN: Record<string, number> = {
  "Asia/Shanghai": 480, "Asia/Chongqing": 480, "Asia/Chungking": 480, "Asia/Harbin": 480, PRC: 480,
  "Asia/Hong_Kong": 480, "Asia/Macau": 480, "Asia/Taipei": 480, "Asia/Urumqi": 360, "Asia/Kashgar": 360,
};
const FIXED_SINCE_MS = Date.UTC(1992, 0, 1);
const stampFormats = new Map<string, Intl.DateTimeFormat>();

function stampFormat(tz: string): Intl.DateTimeFormat {
  let format = stampFormats.get(tz);
  if (!format) {
    format = new Intl.DateTimeFormat("zh-CN", {
      timeZone: tz, year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", hourCycle: "h23",
    });
    stampFormats.set(tz, format);
  }
  return format;
}

const two = (n: number) => String(n).padStart(2, "0");

/** "YYYY-MM-DD hh:mm" of `d` in time zone `tz`. */
export function stamp(d: Date, tz: string = DEFAULT_TZ): string {
  const offset = FIXED_OFFSET_MIN[tz];
  if (offset !== undefined && d.getTime() >= FIXED_SINCE_MS) {
    const t = new Date(d.getTime() + offset * 60000);
    return `${t.getUTCFullYear()}-${two(t.getUTCMonth() + 1)}-${two(t.getUTCDate())} ${two(t.getUTCHours())}:${two(t.getUTCMinutes())}`;
  }
  const parts = stampFormat(tz).formatToParts(d);
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? "";
  return `${get("year")}-${get("month")}-${get("day")} ${get("hour")}:${get("minute")}`;
}

export function localTime(ts: string | null | undefined, tz: string = DEFAULT_TZ): string {
  if (!ts) return "—";
  const d = new Date(ts);
  if (Number.isNaN(d.getTime())) return String(ts);
  return stamp(d, tz);
}

/** The current month ("YYYY-MM") in time zone `tz`. */
export function thisMonth(tz: string = DEFAULT_TZ): string {
  return stamp(new Date(), tz).slice(0, 7);
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
  return stamp(new Date(), tz).slice(0, 10);
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
