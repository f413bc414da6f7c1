import type { StrategyParam } from "../api/types";

/** Form values are kept as the text the person typed; they become typed params on submit. */
export type ParamValues = Record<string, string>;

/** The form's starting values: each parameter's default, as text. */
export function defaultValues(params: readonly StrategyParam[]): ParamValues {
  const values: ParamValues = {};
  for (const p of params) values[p.name] = p.default === null || p.default === undefined ? "" : String(p.default);
  return values;
}

const isNumeric = (p: StrategyParam) => p.type === "int" || p.type === "float";

/** One message per invalid parameter (by name); an empty object means the values are valid. */
export function validateParams(params: readonly StrategyParam[], values: ParamValues): Record<string, string> {
  const errors: Record<string, string> = {};
  for (const p of params) {
    const raw = (values[p.name] ?? "").trim();
    if (p.choices && p.choices.length > 0) {
      if (!p.choices.map(String).includes(raw)) errors[p.name] = `Choose one of ${p.choices.join(", ")}.`;
      continue;
    }
    if (!isNumeric(p)) {
      if (p.type !== "bool" && raw === "" && p.default !== "") errors[p.name] = "Required.";
      continue;
    }
    if (raw === "") {
      errors[p.name] = "Required.";
      continue;
    }
    const value = Number(raw);
    if (!Number.isFinite(value)) {
      errors[p.name] = "Enter a number.";
      continue;
    }
    if (p.type === "int" && !Number.isInteger(value)) {
      errors[p.name] = "Enter a whole number.";
      continue;
    }
    if (p.min !== null && value < p.min) errors[p.name] = `Must be at least ${p.min}.`;
    else if (p.max !== null && value > p.max) errors[p.name] = `Must be at most ${p.max}.`;
  }
  return errors;
}

/** Typed params for the API (numbers as numbers, booleans as booleans). Validate first. */
export function toParams(params: readonly StrategyParam[], values: ParamValues): Record<string, number | string | boolean> {
  const out: Record<string, number | string | boolean> = {};
  for (const p of params) {
    const raw = (values[p.name] ?? "").trim();
    if (p.type === "int" || p.type === "float") out[p.name] = Number(raw);
    else if (p.type === "bool") out[p.name] = raw === "true";
    else if (p.choices && typeof p.choices[0] === "number") out[p.name] = Number(raw);
    else out[p.name] = raw;
  }
  return out;
}

/** A rand amount typed by a person: "5 000", "5000.50" or "5,000.50" → "5000.50"; null when not a positive amount. */
export function parseAmount(text: string): string | null {
  const cleaned = text.replace(/[\sR]/g, "").replace(/,(?=\d{3}(\D|$))/g, "").replace(",", ".");
  if (!/^\d+(\.\d{1,8})?$/.test(cleaned)) return null;
  return Number(cleaned) > 0 ? cleaned : null;
}

/** The HTML input attributes for a numeric parameter (native range hints; validation stays ours). */
export function inputAttributes(p: StrategyParam): { type: string; inputMode?: "numeric" | "decimal"; step?: string; min?: number; max?: number } {
  if (!isNumeric(p)) return { type: "text" };
  const attrs: { type: string; inputMode: "numeric" | "decimal"; step: string; min?: number; max?: number } = {
    type: "number",
    inputMode: p.type === "int" ? "numeric" : "decimal",
    step: p.type === "int" ? "1" : "any",
  };
  if (p.min !== null) attrs.min = p.min;
  if (p.max !== null) attrs.max = p.max;
  return attrs;
}
