import { describe, expect, it } from "vitest";
import type { StrategyParam } from "../api/types";
import { defaultValues, parseAmount, toParams, validateParams } from "./paramSchema";

const params: StrategyParam[] = [
  { name: "quote_amount", type: "float", default: 100, min: 0.01, max: 1e9, description: "", choices: null },
  { name: "every_bars", type: "int", default: 24, min: 1, max: 100000, description: "", choices: null },
  { name: "ma", type: "str", default: "sma", min: null, max: null, description: "", choices: ["sma", "ema"] },
];

describe("param schema forms", () => {
  it("starts from the defaults and they are valid", () => {
    const values = defaultValues(params);
    expect(values).toEqual({ quote_amount: "100", every_bars: "24", ma: "sma" });
    expect(validateParams(params, values)).toEqual({});
  });

  it("enforces min, max, integers, numbers and choices", () => {
    const errors = validateParams(params, { quote_amount: "0", every_bars: "1.5", ma: "wma" });
    expect(errors.quote_amount).toBe("Must be at least 0.01.");
    expect(errors.every_bars).toBe("Enter a whole number.");
    expect(errors.ma).toMatch(/sma, ema/);
    expect(validateParams(params, { quote_amount: "abc", every_bars: "100001", ma: "ema" })).toEqual({
      quote_amount: "Enter a number.",
      every_bars: "Must be at most 100000.",
    });
    expect(validateParams(params, { quote_amount: "", every_bars: "1", ma: "sma" })).toEqual({ quote_amount: "Required." });
  });

  it("types the params for the API", () => {
    expect(toParams(params, { quote_amount: "250.5", every_bars: "1", ma: "ema" })).toEqual({ quote_amount: 250.5, every_bars: 1, ma: "ema" });
  });

  it("parses rand amounts", () => {
    expect(parseAmount("5000")).toBe("5000");
    expect(parseAmount("5 000,50")).toBe("5000.50");
    expect(parseAmount("R 5,000.50")).toBe("5000.50");
    expect(parseAmount("0")).toBeNull();
    expect(parseAmount("-3")).toBeNull();
    expect(parseAmount("abc")).toBeNull();
  });
});
