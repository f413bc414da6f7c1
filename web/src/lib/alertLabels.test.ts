import { describe, expect, it } from "vitest";
import { alertLabel, alertText } from "./alertLabels";

describe("alertLabel", () => {
  it("names known codes and says a repeated part once", () => {
    expect(alertLabel("emergency_stop")).toBe("Emergency stop");
    expect(alertLabel("emergency_stop.emergency_stop")).toBe("Emergency stop");
    expect(alertLabel("trip.daily_loss")).toBe("Circuit breaker tripped: daily loss limit");
  });
  it("gives unknown codes a readable fallback", () => {
    expect(alertLabel("venue_disconnected")).toBe("Venue disconnected");
    expect(alertLabel("SOME-odd.code_X")).toBe("Some odd: code x");
    expect(alertLabel("")).toBe("Alert");
    expect(alertLabel(null)).toBe("Alert");
  });
});

describe("alertText", () => {
  it("keeps a sentence and replaces a bare code", () => {
    expect(alertText("emergency stop by user@example.com", "emergency_stop")).toBe("Emergency stop by user@example.com");
    expect(alertText("emergency_stop")).toBe("Emergency stop");
    expect(alertText(undefined, undefined, "drawdown")).toBe("Drawdown limit");
  });
});
