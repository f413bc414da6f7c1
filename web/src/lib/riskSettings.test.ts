import { describe, expect, it } from "vitest";
import { EXIT_RULES, LIMIT_RULES, fractionToPercentText, limitsPayload, mergeExits, parseDecimal, percentToFraction, rulesToForm, validateRules } from "./riskSettings";

describe("numbers typed by people", () => {
  it("reads en-ZA and plain decimals", () => {
    expect(parseDecimal("5")).toBe(5);
    expect(parseDecimal("5,5")).toBe(5.5);
    expect(parseDecimal(" 2.25 ")).toBe(2.25);
    expect(parseDecimal("1 000")).toBe(1000);
    expect(parseDecimal("abc")).toBeNull();
    expect(parseDecimal("5%")).toBeNull();
  });
  it("converts percent and fractions without float noise", () => {
    expect(percentToFraction(7)).toBe(0.07);
    expect(percentToFraction(5.5)).toBe(0.055);
    expect(fractionToPercentText(0.07)).toBe("7");
    expect(fractionToPercentText("0.055")).toBe("5.5");
    expect(fractionToPercentText(null)).toBe("");
  });
});

describe("bot exits", () => {
  it("match the server's ranges: stop-loss and trailing in (0, 100) %, take-profit > 0", () => {
    const ok = validateRules(EXIT_RULES, { stop_loss_pct: "5", take_profit_pct: "150", trailing_stop_pct: "" });
    expect(ok.errors).toEqual({});
    expect(ok.out).toEqual({ stop_loss_pct: 0.05, take_profit_pct: 1.5, trailing_stop_pct: null });
    const bad = validateRules(EXIT_RULES, { stop_loss_pct: "100", take_profit_pct: "0", trailing_stop_pct: "x" });
    expect(Object.keys(bad.errors).sort()).toEqual(["stop_loss_pct", "take_profit_pct", "trailing_stop_pct"]);
  });
  it("merge into the bot's risk, keeping other keys and removing switched-off exits", () => {
    expect(mergeExits({ max_position_fraction: 0.5, stop_loss_pct: 0.1, trailing_stop_pct: 0.2 }, { stop_loss_pct: 0.05, take_profit_pct: null, trailing_stop_pct: null })).toEqual({
      max_position_fraction: 0.5,
      stop_loss_pct: 0.05,
    });
  });
  it("show stored fractions as percent", () => {
    expect(rulesToForm(EXIT_RULES, { stop_loss_pct: 0.05 })).toEqual({ stop_loss_pct: "5", take_profit_pct: "", trailing_stop_pct: "" });
  });
});

describe("breaker limits", () => {
  it("validate like BreakerLimits.from_dict and leave switched-off limits out", () => {
    const { errors, out } = validateRules(LIMIT_RULES, { daily_loss_pct: "3", daily_loss_amount: "2500", max_consecutive_losses: "4", error_burst_window_s: "" });
    expect(errors).toEqual({});
    expect(limitsPayload(out)).toEqual({ daily_loss_pct: 0.03, daily_loss_amount: "2500", max_consecutive_losses: 4 });
    const bad = validateRules(LIMIT_RULES, { max_drawdown_pct: "0", max_consecutive_losses: "1.5", max_exposure: "-1" });
    expect(Object.keys(bad.errors).sort()).toEqual(["max_consecutive_losses", "max_drawdown_pct", "max_exposure"]);
  });
});
