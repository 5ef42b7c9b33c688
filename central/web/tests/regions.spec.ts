import { describe, expect, it } from "vitest";
import { childRegion, inRegion, regionLevel } from "../src/regions";

describe("region drill-down (GB/T 2260 codes)", () => {
  it("goes province → city → county", () => {
    expect(regionLevel("430000")).toBe("province");
    expect(childRegion("430102", null)).toBe("430000");
    expect(childRegion("430102", "430000")).toBe("430100");
    expect(childRegion("430102", "430100")).toBe("430102");
    expect(childRegion(null, "430000")).toBe("未登记");
  });

  it("keeps a city to its own counties", () => {
    expect(inRegion("430102", "430100")).toBe(true);
    expect(inRegion("430203", "430100")).toBe(false);
    expect(inRegion("430203", "430000")).toBe(true);
    expect(inRegion("430203", "430203")).toBe(true);
    expect(inRegion(null, "430100")).toBe(false);
  });
});
