/** People-readable names for the codes the risk engine and the live feed send (never show `emergency_stop`). */

const NAMES: Record<string, string> = {
  emergency_stop: "Emergency stop",
  trip: "Circuit breaker tripped",
  breaker_tripped: "Circuit breaker tripped",
  daily_loss: "Daily loss limit",
  drawdown: "Drawdown limit",
  consecutive_losses: "Consecutive losses limit",
  error_burst: "Error burst",
  exposure: "Exposure cap",
  max_exposure: "Exposure cap",
  manual: "Manual",
  reset: "Breakers reset",
  denied: "Order refused by risk checks",
  warning: "Risk warning",
  kill_switch: "Kill switch",
  halted: "Bot halted",
  errored: "Bot errored",
  quarantined: "Bot quarantined",
};

/** "some_code_name" → "Some code name". */
function humanise(code: string): string {
  const words = code.replace(/[_\-.]+/g, " ").replace(/\s+/g, " ").trim();
  if (!words) return "Alert";
  return words.charAt(0).toUpperCase() + words.slice(1).toLowerCase();
}

/**
 * The label of an alert or risk-event code. Codes may be dotted (`kind.rule`, as the live
 * `alert` messages send them): a repeated part is said once (`emergency_stop.emergency_stop`
 * → "Emergency stop"), a trip names its rule (`trip.daily_loss` → "Circuit breaker tripped: daily loss limit").
 */
export function alertLabel(code: string | null | undefined): string {
  if (!code) return "Alert";
  const parts = code.split(".").filter(Boolean);
  const unique = parts.filter((p, i) => parts.indexOf(p) === i);
  const named = unique.map((p) => NAMES[p] ?? humanise(p));
  if (named.length === 0) return "Alert";
  return [named[0], ...named.slice(1).map((n) => n.charAt(0).toLowerCase() + n.slice(1))].join(": ");
}

/** Whether a text is a bare machine code (snake_case / dotted) rather than a sentence. */
export function looksLikeCode(text: string): boolean {
  return /^[a-z0-9]+([_.][a-z0-9]+)*$/.test(text.trim());
}

/** The text to show for an alert: its message when it is a sentence, else the code's label. */
export function alertText(message: unknown, ...codes: unknown[]): string {
  if (typeof message === "string" && message.trim() && !looksLikeCode(message)) return message.charAt(0).toUpperCase() + message.slice(1);
  const code = [typeof message === "string" ? message : null, ...codes].find((c): c is string => typeof c === "string" && c.trim() !== "");
  return alertLabel(code);
}
