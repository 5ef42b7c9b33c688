import { describe, expect, it } from "vitest";
import { adviceText, alarmText, RULES, subjectText } from "../src/texts";

const hasLatinWord = (s: string) => /\b[a-z]{3,}\b/i.test(s.replace(/RH|kWh/g, ""));

describe("alarm texts", () => {
  it("render each rule in Chinese with its value, threshold and unit", () => {
    expect(alarmText({ rule: "hotspot", subject: "P01/C5/L1", value: 17.4, threshold: 5, message: "31.5 °C at cable 5" }))
      .toBe("P01仓 5号电缆 第1层 高出本层平均 17.4 ℃（阈值 5.0 ℃）");
    expect(alarmText({ rule: "indoor_humidity_high", subject: "P01", value: 80.5, threshold: 75 })).toBe("仓湿 80.5 %RH，持续高于 75 %RH");
    expect(alarmText({ rule: "depot_offline", subject: "@depot", value: null, threshold: null })).toBe("边缘设备已报告离线");
    expect(alarmText({ rule: "stock_discrepancy", subject: "lot:W-1", value: -4.48, threshold: 3 })).toContain("-4.48 %");
  });

  it("never pass an English server message through", () => {
    for (const rule of [...Object.keys(RULES), "some_new_rule"]) {
      const text = alarmText({ rule, subject: "P01", value: 1.5, threshold: 2, message: "granary mean above limit" });
      expect(hasLatinWord(text.replace(rule, "")), `${rule}: ${text}`).toBe(false);
    }
  });

  it("keep a Chinese server message of an unknown rule", () => {
    expect(alarmText({ rule: "new_rule", subject: "P01", message: "新的预警" })).toBe("新的预警");
  });

  it("name subjects as keepers do", () => {
    expect(subjectText("P01/C5")).toBe("P01仓 5号电缆");
    expect(subjectText("lot:W-2025-01")).toBe("货位 W-2025-01");
    expect(subjectText("plan:wheat")).toBe("储备计划 小麦");
  });

  it("give advice in Chinese from its code", () => {
    expect(adviceText({ kind: "cooling_ventilation", action: "start", reason: "grain mean 20 °C is 9 °C above outside air" }))
      .toBe("建议开始降温通风");
    expect(adviceText({ kind: "equilibrium_moisture", grain: "wheat", emc_wb_pct: 13.42 })).toBe("小麦在仓内空气下的平衡水分 13.4 %（湿基）");
  });
});

describe("server texts with code keys", () => {
  it("read varieties in Chinese", async () => {
    const { localizeKeys } = await import("../src/texts");
    expect(localizeKeys("水分16.5%高于wheat安全水分12.5%")).toBe("水分16.5%高于小麦安全水分12.5%");
    expect(localizeKeys("RK20261201-WF-A-000002")).toBe("RK20261201-WF-A-000002");
  });
});
