// Region codes (GB/T 2260): 430000 province, 430100 city, 430102 county.
export function regionLevel(code: string): "province" | "city" | "county" {
  if (code.endsWith("0000")) return "province";
  if (code.endsWith("00")) return "city";
  return "county";
}

/** The code one level below `parent` that holds `code` (430102 under 430000 → 430100). */
export function childRegion(code: string | null | undefined, parent: string | null): string {
  if (!code) return "未登记";
  if (!parent || parent === "000000") return `${code.slice(0, 2)}0000`;
  const level = regionLevel(parent);
  if (level === "province") return `${code.slice(0, 4)}00`;
  return code;
}

export function inRegion(code: string | null | undefined, region: string | null): boolean {
  if (!region || region === "000000") return true;
  if (!code) return false;
  const level = regionLevel(region);
  if (level === "province") return code.startsWith(region.slice(0, 2));
  if (level === "city") return code.startsWith(region.slice(0, 4));
  return code === region;
}
