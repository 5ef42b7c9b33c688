// What depot staff read: rule codes, states and kinds rendered in simplified Chinese with the
// numbers and units they write. The server's message strings are never shown as they are when a
// rule code is known, so a message in another language cannot reach the page.

export const RULES: Record<string, string> = {
  grain_temp_high: "粮温超限", grain_temp_mean_high: "平均粮温超限", hotspot: "局部发热",
  temp_rise: "粮温异常上升", condensation_risk: "结露风险", indoor_humidity_high: "仓湿过高",
  sensor_fault: "传感器故障", depot_offline: "库点离线", camera_offline: "摄像机离线",
  inspection_overdue: "检测超期", insect_treatment_overdue: "虫害处理超期",
  storage_accident: "储存事故（超耗）", stock_below_plan: "库存低于计划", shelf_life: "保质期预警",
  granary_over_capacity: "超设计仓容", stock_discrepancy: "账实不符",
};

export const STATES: Record<string, string> = {
  active: "未处理", acknowledged: "已确认", cleared: "已解除", open: "未解除",
  online: "在线", offline: "离线", unknown: "未知",
  pending: "待审批", approved: "已批准", rejected: "已驳回", settled: "已结算",
};

export const SEVERITY: Record<string, string> = { alarm: "报警", warning: "预警" };
export const ACTIONS: Record<string, string> = {
  ack: "确认", plan: "处置方案", approve: "审批", execute: "执行", result: "处置结果",
};
export const GRANARY_TYPES: Record<string, string> = {
  flat: "平房仓", squat_silo: "浅圆仓", silo: "立筒仓", warehouse: "楼房仓", tank: "油罐",
};
export const STORAGE_MODES: Record<string, string> = { normal: "常规储藏", quasi_low: "准低温", low: "低温" };
export const GRAINS: Record<string, string> = {
  wheat: "小麦", paddy: "稻谷", indica_paddy: "籼稻", japonica_paddy: "粳稻", maize: "玉米",
  corn: "玉米", soybean: "大豆", rice: "大米", flour: "面粉", rapeseed: "油菜籽",
  edible_oil: "食用植物油", peanut: "花生",
};
export const CATEGORIES: Record<string, string> = { raw_grain: "原粮", oilseed: "油料", edible_oil: "食用植物油", finished_grain: "成品粮" };
export const DIRECTIONS: Record<string, string> = { in: "入库", out: "出库" };
export const TEST_KINDS: Record<string, string> = { sampling: "扦样", physical: "物检", chemical: "化检/食安", recheck: "保管员复检" };
export const BATCH_STATES: Record<string, string> = { arrived: "待检", accepted: "已入仓", refused: "已退回", pretreatment: "整理中" };
export const BATCH_STEPS: Record<string, string> = { registered: "登记", arrived: "到库登记", sampling: "扦样", physical: "物检",
  chemical: "化检/食安", recheck: "复检", accepted: "入仓", refused: "退回", pretreatment: "送预处理",
  exception_requested: "申请例外审批", approved: "审批通过", rejected: "审批驳回" };
export const ADVICE: Record<string, string> = {
  start: "建议开始降温通风", continue: "可继续通风", stop: "建议停止通风", none: "暂不需要通风",
  vetoed: "不宜通风",
};
// The reasons the API gives when §8 refuses an intake (409 names the rule).
export const INTAKE_REFUSALS: Record<string, string> = {
  moisture_above_safe: "水分高于安全水分，应退回或送预处理（烘干）",
  impurity_above_limit: "杂质超过 1.0 %，应退回或送预处理（清理）",
  mixed_lot: "与货位已有粮食的品种、等级或收获年度不同（四落实）",
  over_capacity: "超过仓房设计仓容",
  not_tested: "尚未检验，不能入库",
};

export const label = (dict: Record<string, string>, key: string | null | undefined): string =>
  key == null ? "—" : (dict[key] ?? key);

export const grain = (key: string | null | undefined): string => label(GRAINS, key);

/** "P01/C5/L1" → "P01仓 5号电缆 第1层"; other subjects as they read best. */
export function subjectText(subject: string | null | undefined): string {
  if (!subject) return "—";
  if (subject === "@depot") return "整个库点";
  let m = subject.match(/^([^/]+)\/C(\d+)\/L(\d+)$/);
  if (m) return `${m[1]}仓 ${m[2]}号电缆 第${m[3]}层`;
  m = subject.match(/^([^/]+)\/C(\d+)$/);
  if (m) return `${m[1]}仓 ${m[2]}号电缆`;
  if (subject.startsWith("lot:")) return `货位 ${subject.slice(4)}`;
  if (subject.startsWith("plan:")) return `储备计划 ${grain(subject.slice(5))}`;
  return subject;
}

const n = (v: number | null | undefined, digits = 1): string =>
  v === null || v === undefined || Number.isNaN(Number(v)) ? "—" : Number(v).toFixed(digits);

export interface AlarmLike {
  rule: string;
  subject?: string | null;
  value?: number | null;
  threshold?: number | null;
  message?: string | null;
}

const hasHan = (s: string) => /[\u4e00-\u9fff]/.test(s);

/** The alarm's message in Chinese, from its rule code, value and threshold. */
export function alarmText(a: AlarmLike): string {
  const v = a.value, t = a.threshold, where = subjectText(a.subject);
  switch (a.rule) {
    case "grain_temp_high":
      return `最高粮温 ${n(v)} ℃，超过上限 ${n(t)} ℃`;
    case "grain_temp_mean_high":
      return `全仓平均粮温 ${n(v, 2)} ℃，超过上限 ${n(t)} ℃`;
    case "hotspot":
      return `${where} 高出本层平均 ${n(v)} ℃（阈值 ${n(t)} ℃）`;
    case "temp_rise":
      return `${where} 粮温上升 ${n(v)} ℃（阈值 ${n(t)} ℃）`;
    case "condensation_risk":
      return `粮温仅高出仓内露点 ${n(v)} ℃（警戒 ${n(t)} ℃），有结露风险`;
    case "indoor_humidity_high":
      return `仓湿 ${n(v)} %RH，持续高于 ${n(t, 0)} %RH`;
    case "sensor_fault":
      return v == null ? `${where} 无有效读数或未应答` : `${where} 读数异常（${n(v, 2)} ℃）`;
    case "depot_offline":
      return v == null ? "边缘设备已报告离线" : `已 ${n(v, 0)} 分钟未收到数据（限值 ${n(t, 0)} 分钟）`;
    case "camera_offline":
      return `摄像机 ${where} 已离线 ${n(v, 0)} 分钟（限值 ${n(t, 0)} 分钟）`;
    case "inspection_overdue":
      return v == null ? `无完整检测记录（应每 ${n(t, 0)} 天检测一次）`
        : `距上次完整检测 ${n(v)} 天，应每 ${n(t, 0)} 天检测一次`;
    case "insect_treatment_overdue":
      return `虫害处理已超过期限 ${n(v, 0)} 天`;
    case "storage_accident":
      return `${where} 超耗 ${n(v, 3)} t（允许损耗 ${n(t, 3)} t），属储存事故`;
    case "shelf_life":
      return v != null && v < 0 ? `${where} 已过保质期 ${n(-v, 0)} 天` : `${where} 距保质期到期还有 ${n(v, 0)} 天`;
    case "stock_below_plan":
      return `${where}：实物库存 ${n(v, 2)} t，低于计划 ${n(t, 2)} t`;
    case "granary_over_capacity":
      return `${where} 存粮 ${n(v, 2)} t，超过设计仓容 ${n(t, 0)} t`;
    case "stock_discrepancy":
      return `${where} 账实差率 ${n(v, 2)} %，超出允许范围 ±${n(t ?? 3, 0)} %`;
    default:
      if (a.message && hasHan(a.message)) return a.message;
      return `${label(RULES, a.rule)}：${where}${v != null ? `，数值 ${n(v, 2)}` : ""}${t != null ? `，阈值 ${n(t, 2)}` : ""}`;
  }
}

export interface AdviceLike {
  kind?: string; action?: string; reason?: string; text?: string; grain?: string | null;
  emc_wb_pct?: number | null; indoor_temp_c?: number | null; indoor_rh_pct?: number | null;
}

/** Advice beside a granary, in Chinese: the action from its code, the reason when it is Chinese. */
export function adviceText(a: AdviceLike): string {
  if (a.kind === "equilibrium_moisture") {
    return a.emc_wb_pct == null ? `${grain(a.grain)}平衡水分：无法计算`
      : `${grain(a.grain)}在仓内空气下的平衡水分 ${n(a.emc_wb_pct, 1)} %（湿基）`;
  }
  const head = a.kind === "cooling_ventilation" || a.action ? label(ADVICE, a.action ?? "none") : "";
  const reason = [a.reason, a.text].find((x) => x && hasHan(x));
  if (head && reason) return `${head}：${reason}`;
  if (head) return head;
  return reason ?? "—";
}

export const APPROVAL_KINDS: Record<string, string> = {
  intake_exception: "入库例外", plan_change: "储备计划调整", write_off: "损耗核销", transfer: "货位移仓",
  correction: "出入库更正", movement_correction: "出入库更正", threshold_change: "预警阈值放宽",
};

/** A server text that names a variety by its key ("wheat") reads it in Chinese ("小麦"). */
export function localizeKeys(text: string): string {
  return text.replace(/\b([a-z]+(?:_[a-z]+)*)\b/g, (word) => GRAINS[word] ?? CATEGORIES[word] ?? word);
}
