/**
 * Form logic for risk settings the server stores as fractions (0.05 = 5 %): a bot's exits
 * (engine/planner.py `_exit_rules`, risk/exits.py ExitRules) and the circuit-breaker limits
 * (risk/breakers.py BreakerLimits). The ranges match the server's, so the form refuses what
 * the API would answer 422; the server's message is still shown if it does.
 */

export type FormValues = Record<string, string>;
export type FieldErrors = Record<string, string>;

/** A decimal typed by a person: "5", "5.5" or "5,5" (en-ZA); null when it is not a finite number. */
export function parseDecimal(text: string): number | null {
  const cleaned = text.trim().replace(/[\s\u00a0]/g, "").replace(",", ".");
  if (!/^[-+]?(\d+\.?\d*|\.\d+)$/.test(cleaned)) return null;
  const n = Number(cleaned);
  return Number.isFinite(n) ? n : null;
}

/** 5 (percent) → 0.05, without float noise (0.07, not 0.07000000000000001). */
export function percentToFraction(percent: number): number {
  return Number((percent / 100).toPrecision(12));
}

/** 0.05 (from the API, number or string) → "5"; "" when unset. */
export function fractionToPercentText(value: unknown): string {
  if (value === null || value === undefined || value === "") return "";
  const n = typeof value === "number" ? value : Number(value);
  return Number.isFinite(n) ? String(Number((n * 100).toPrecision(12))) : "";
}

interface Rule {
  /** the API's key */
  key: string;
  label: string;
  kind: "percentBelow100" | "percentPositive" | "amount" | "count";
  hint: string;
}

export const EXIT_RULES: readonly Rule[] = [
  { key: "stop_loss_pct", label: "Stop-loss (%)", kind: "percentBelow100", hint: "Sell when the price falls this far below the entry. Empty: off." },
  { key: "take_profit_pct", label: "Take-profit (%)", kind: "percentPositive", hint: "Sell when the price rises this far above the entry. Empty: off." },
  { key: "trailing_stop_pct", label: "Trailing stop (%)", kind: "percentBelow100", hint: "Sell when the price falls this far below its high since entry. Empty: off." },
];

export const LIMIT_RULES: readonly Rule[] = [
  { key: "daily_loss_pct", label: "Daily loss (%)", kind: "percentBelow100", hint: "Halt when today's loss reaches this share of equity." },
  { key: "daily_loss_amount", label: "Daily loss (ZAR)", kind: "amount", hint: "Halt when today's loss reaches this many rand." },
  { key: "max_drawdown_pct", label: "Max drawdown (%)", kind: "percentBelow100", hint: "Halt when equity falls this far below its peak." },
  { key: "max_consecutive_losses", label: "Consecutive losses", kind: "count", hint: "Halt after this many losing trades in a row." },
  { key: "error_burst_count", label: "Error burst (count)", kind: "count", hint: "Halt after this many errors within the window." },
  { key: "error_burst_window_s", label: "Error burst window (s)", kind: "count", hint: "The window for the error burst, in seconds (default 300)." },
  { key: "max_exposure", label: "Max exposure (ZAR)", kind: "amount", hint: "A cap on the value of all positions held (checked before each order)." },
];

function check(rule: Rule, text: string): { value: number | string | null; error?: string } {
  if (text.trim() === "") return { value: null };
  const n = parseDecimal(text);
  if (n === null) return { value: null, error: "Enter a number." };
  switch (rule.kind) {
    case "percentBelow100":
      return n > 0 && n < 100 ? { value: percentToFraction(n) } : { value: null, error: "Between 0 and 100 (not 0 or 100)." };
    case "percentPositive":
      return n > 0 ? { value: percentToFraction(n) } : { value: null, error: "More than 0." };
    case "amount":
      return n > 0 && n < 1e20 ? { value: String(n) } : { value: null, error: "A positive amount." };
    case "count":
      return Number.isInteger(n) && n >= 1 ? { value: n } : { value: null, error: "A whole number of at least 1." };
  }
}

/** Validate a form against rules: the errors by key, and the values for the API (null: switched off). */
export function validateRules(rules: readonly Rule[], values: FormValues): { errors: FieldErrors; out: Record<string, number | string | null> } {
  const errors: FieldErrors = {};
  const out: Record<string, number | string | null> = {};
  for (const rule of rules) {
    const result = check(rule, values[rule.key] ?? "");
    if (result.error) errors[rule.key] = result.error;
    out[rule.key] = result.value;
  }
  return { errors, out };
}

/** Form text from the API's values (fractions shown as percent). */
export function rulesToForm(rules: readonly Rule[], stored: Record<string, unknown> | null | undefined): FormValues {
  const form: FormValues = {};
  for (const rule of rules) {
    const v = stored?.[rule.key];
    form[rule.key] = rule.kind.startsWith("percent") ? fractionToPercentText(v) : v === null || v === undefined ? "" : String(v);
  }
  return form;
}

/** A bot's `risk` with the exits replaced: other keys kept, switched-off exits removed. */
export function mergeExits(risk: Record<string, unknown>, exits: Record<string, number | string | null>): Record<string, unknown> {
  const next: Record<string, unknown> = { ...risk };
  for (const [key, value] of Object.entries(exits)) {
    if (value === null) delete next[key];
    else next[key] = value;
  }
  return next;
}

/** Breaker settings for PUT /risk/limits: switched-off limits left out (the default window too when empty). */
export function limitsPayload(out: Record<string, number | string | null>): Record<string, number | string> {
  const settings: Record<string, number | string> = {};
  for (const [key, value] of Object.entries(out)) if (value !== null) settings[key] = value;
  return settings;
}
