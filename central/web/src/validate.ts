// The same limits the API applies (central/api: pydantic models), checked before sending so a
// keeper sees the problem beside the field; the API's own answer is still shown when it refuses.

export type Problems = Record<string, string>;

const CODE = /^[A-Za-z0-9_-]{1,64}$/;
const LOT = /^[A-Za-z0-9_.-]{1,64}$/;

function decimal(problems: Problems, field: string, name: string, value: unknown,
  { min, max, minExclusive = false, maxExclusive = false, places = 3, required = true }:
  { min?: number; max?: number; minExclusive?: boolean; maxExclusive?: boolean; places?: number; required?: boolean }): void {
  if (value === null || value === undefined || value === "") {
    if (required) problems[field] = `请填写${name}`;
    return;
  }
  const v = Number(value);
  if (!Number.isFinite(v)) { problems[field] = `${name}须为数字`; return; }
  if (min !== undefined && (minExclusive ? v <= min : v < min)) problems[field] = `${name}须${minExclusive ? "大于" : "不小于"} ${min}`;
  else if (max !== undefined && (maxExclusive ? v >= max : v > max)) problems[field] = `${name}须${maxExclusive ? "小于" : "不大于"} ${max}`;
  else if ((String(value).split(".")[1] ?? "").length > places) problems[field] = `${name}最多 ${places} 位小数`;
}

function date(problems: Problems, field: string, name: string, value: unknown, required = true): void {
  if (!value) { if (required) problems[field] = `请选择${name}`; return; }
  const year = Number(String(value).slice(0, 4));
  if (!/^\d{4}-\d{2}-\d{2}/.test(String(value)) || year < 2000 || year > 2100) problems[field] = `${name}须在 2000–2100 年之间`;
}

export function validateBatch(b: { depot?: string; direction?: string; category?: string; variety?: string; arrived_at?: string }): Problems {
  const p: Problems = {};
  if (!b.depot || !CODE.test(b.depot)) p.depot = "请选择库点";
  if (b.direction !== "in" && b.direction !== "out") p.direction = "请选择入库或出库";
  if (!b.category) p.category = "请选择粮食类别";
  if (!b.variety?.trim()) p.variety = "请填写品种";
  date(p, "arrived_at", "到库时间", b.arrived_at);
  return p;
}

export function validateTest(t: { kind?: string; moisture_pct?: unknown; impurity_pct?: unknown; test_weight_g_l?: unknown; grade?: unknown }): Problems {
  const p: Problems = {};
  if (!["sampling", "physical", "chemical", "recheck"].includes(t.kind ?? "")) p.kind = "请选择检验类型";
  const physical = t.kind === "physical" || t.kind === "recheck";
  decimal(p, "moisture_pct", "水分", t.moisture_pct, { min: 0, max: 100, maxExclusive: true, places: 2, required: physical });
  decimal(p, "impurity_pct", "杂质", t.impurity_pct, { min: 0, max: 100, maxExclusive: true, places: 2, required: physical });
  decimal(p, "test_weight_g_l", "容重", t.test_weight_g_l, { min: 0, max: 2000, minExclusive: true, places: 1, required: false });
  if (t.grade !== undefined && t.grade !== null && String(t.grade).length > 32) p.grade = "等级最多 32 个字";
  return p;
}

export function validateAccept(a: { lot?: string; quantity_t?: unknown; date?: string }): Problems {
  const p: Problems = {};
  if (!a.lot || !LOT.test(a.lot)) p.lot = "请选择货位";
  decimal(p, "quantity_t", "数量", a.quantity_t, { min: 0, max: 10000000, minExclusive: true, places: 3 });
  date(p, "date", "日期", a.date);
  return p;
}

export function validateReason(r: { reason?: string }): Problems {
  return r.reason?.trim() ? {} : { reason: "请填写原因" };
}

export interface CountInput {
  date?: string; method?: string; shape?: string; length_m?: unknown; width_m?: unknown; height_m?: unknown;
  diameter_m?: unknown; cone_height_m?: unknown; deduction_m3?: unknown; bags?: unknown; bag_kg?: unknown;
  test_weight_g_l?: unknown; correction_factor?: unknown; moisture_pct?: unknown; impurity_pct?: unknown;
}

export function validateCount(c: CountInput): Problems {
  const p: Problems = {};
  date(p, "date", "检查日期", c.date);
  const metre = { min: 0, max: 1000, minExclusive: true, places: 3 };
  if (c.method === "bags") {
    decimal(p, "bags", "包数", c.bags, { min: 0, minExclusive: true, places: 0 });
    decimal(p, "bag_kg", "标准包重", c.bag_kg, { min: 0, max: 1000, minExclusive: true, places: 3 });
  } else if (c.method === "measure") {
    if (c.shape === "round") {
      decimal(p, "diameter_m", "直径", c.diameter_m, metre);
      decimal(p, "height_m", "粮堆高度", c.height_m, metre);
      decimal(p, "cone_height_m", "锥体高度", c.cone_height_m, { ...metre, min: 0, minExclusive: false, required: false });
    } else if (c.shape === "flat") {
      decimal(p, "length_m", "长", c.length_m, metre);
      decimal(p, "width_m", "宽", c.width_m, metre);
      decimal(p, "height_m", "平均高度", c.height_m, metre);
    } else p.shape = "请选择仓型";
    decimal(p, "deduction_m3", "扣除体积", c.deduction_m3, { min: 0, places: 3, required: false });
    decimal(p, "test_weight_g_l", "容重", c.test_weight_g_l, { min: 0, max: 2000, minExclusive: true, places: 1 });
    decimal(p, "correction_factor", "校正系数", c.correction_factor, { min: 0.5, max: 2, places: 3 });
  } else p.method = "请选择检查方法";
  decimal(p, "moisture_pct", "水分", c.moisture_pct, { min: 0, max: 100, maxExclusive: true, places: 2 });
  decimal(p, "impurity_pct", "杂质", c.impurity_pct, { min: 0, max: 100, maxExclusive: true, places: 2 });
  return p;
}

/** Flat volume, density and quantity as the count will compute them (domain.md §9), for a preview. */
export function countPreview(c: CountInput): { volume_m3: number; counted_t: number } | null {
  const n = (v: unknown) => Number(v ?? 0);
  if (c.method === "bags") return n(c.bags) > 0 && n(c.bag_kg) > 0 ? { volume_m3: 0, counted_t: n(c.bags) * n(c.bag_kg) / 1000 } : null;
  let v: number;
  if (c.shape === "round") {
    const r = n(c.diameter_m) / 2;
    v = Math.PI * r * r * n(c.height_m) + Math.PI * r * r * n(c.cone_height_m) / 3;
  } else v = n(c.length_m) * n(c.width_m) * n(c.height_m);
  v -= n(c.deduction_m3);
  const rho = n(c.test_weight_g_l) * n(c.correction_factor);
  if (!(v > 0) || !(rho > 0)) return null;
  return { volume_m3: v, counted_t: (v * rho) / 1000 };
}

export function validateLot(l: { depot?: string; granary?: string; lot?: string; variety?: string; harvest_year?: unknown;
  card_established?: string; grade?: string }): Problems {
  const p: Problems = {};
  if (!l.depot || !CODE.test(l.depot)) p.depot = "请选择库点";
  if (!l.granary || !CODE.test(l.granary)) p.granary = "仓房编码只能含字母、数字、- 和 _";
  if (!l.lot || !LOT.test(l.lot)) p.lot = "货位号只能含字母、数字、.、- 和 _（最多 64 个）";
  if (!l.variety?.trim()) p.variety = "请填写品种";
  if (l.grade && l.grade.length > 32) p.grade = "等级最多 32 个字";
  if (l.harvest_year !== undefined && l.harvest_year !== null && l.harvest_year !== "") {
    const y = Number(l.harvest_year);
    if (!Number.isInteger(y) || y < 2000 || y > 2100) p.harvest_year = "收获年度须在 2000–2100 之间";
  }
  if (!/^20\d{2}-(0[1-9]|1[0-2])$/.test(l.card_established ?? "")) p.card_established = "建卡月份格式：2026-10";
  return p;
}
