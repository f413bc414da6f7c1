import { describe, expect, it } from "vitest";
import type { VarResult } from "../api/types";
import { fellBack, varMethodNotes } from "./varNotes";

const base: VarResult = {
  method: "historical", method_used: "historical", fallback_reason: null, capped: false,
  confidence: 0.95, horizon_days: 1, portfolio_value: 1000, var_amount: 52, var_percent: 5.2,
  cvar_amount: 94, cvar_percent: 9.4, band: "amber", sentence: "With 95% confidence…", observations: 1000,
  note: null, scope: "user",
};
const methods = [
  { id: "historical", label: "Historical" },
  { id: "parametric", label: "Parametric (normal)" },
  { id: "cornish_fisher", label: "Cornish-Fisher" },
  { id: "monte_carlo", label: "Monte Carlo" },
];
const reason = "Cornish-Fisher is not valid for skew 4.9 and excess kurtosis 103: …";

describe("VaR method notes", () => {
  it("flags a Cornish-Fisher row that shows historical figures, with the server's reason", () => {
    const cf: VarResult = { ...base, method: "cornish_fisher", fallback_reason: reason, note: `${reason} Historical VaR and CVaR are shown instead.` };
    expect(fellBack(cf)).toBe(true);
    expect(fellBack(base)).toBe(false);
    const notes = varMethodNotes(methods, [base, { ...base, method: "parametric", method_used: "parametric" }, cf, new Error("boom")]);
    expect(notes).toEqual([{ method: "cornish_fisher", label: "Cornish-Fisher", kind: "fallback", text: cf.note }]);
  });

  it("says when a model's loss was capped at the portfolio's value", () => {
    const capped: VarResult = { ...base, method: "parametric", method_used: "parametric", capped: true, var_percent: 100, cvar_percent: 100, note: "The parametric model implies a loss above the portfolio's value (VaR 269.00 %), … capped at 100 %." };
    expect(varMethodNotes(methods, [base, capped])).toEqual([{ method: "parametric", label: "Parametric (normal)", kind: "capped", text: capped.note }]);
  });

  it("reads an older server without the new fields as no note", () => {
    const { method_used: _m, fallback_reason: _f, capped: _c, ...old } = base;
    expect(fellBack(old)).toBe(false);
    expect(varMethodNotes(methods, [old, undefined])).toEqual([]);
  });
});
