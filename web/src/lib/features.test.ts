import { describe, expect, it } from "vitest";
import { featureOn } from "./features";

describe("featureOn", () => {
  it("hides only what the server said is hidden", () => {
    expect(featureOn({ exports: false, backtests: true }, "exports")).toBe(false);
    expect(featureOn({ exports: false, backtests: true }, "backtests")).toBe(true);
    expect(featureOn({}, "chat")).toBe(true);
    expect(featureOn(null, "risk_analytics")).toBe(true);
  });
});
