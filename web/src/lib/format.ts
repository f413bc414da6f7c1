/** Formatters shared by every screen. Money is South African rand unless stated. */

const zar = new Intl.NumberFormat("en-ZA", { style: "currency", currency: "ZAR" });

/** Format an amount in rand; accepts numbers or decimal strings (the API sends Decimals as strings). */
export function formatZAR(amount: number | string): string {
  const value = typeof amount === "string" ? Number(amount) : amount;
  if (!Number.isFinite(value)) return "—";
  return zar.format(value);
}

const dateTime = new Intl.DateTimeFormat("en-ZA", { dateStyle: "medium", timeStyle: "short" });

export function formatDateTime(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? "—" : dateTime.format(date);
}

/** A short description of a browser from its User-Agent string. */
export function describeUserAgent(ua: string | null): string {
  if (!ua) return "Unknown device";
  const browser = /Edg\//.test(ua) ? "Edge" : /Firefox\//.test(ua) ? "Firefox" : /Chrom(e|ium)\//.test(ua) ? "Chrome" : /Safari\//.test(ua) ? "Safari" : null;
  const os = /Android/.test(ua) ? "Android" : /iPhone|iPad/.test(ua) ? "iOS" : /Windows/.test(ua) ? "Windows" : /Mac OS X/.test(ua) ? "macOS" : /Linux/.test(ua) ? "Linux" : null;
  if (browser && os) return `${browser} on ${os}`;
  return browser ?? os ?? ua.slice(0, 40);
}

const toNumber = (value: number | string | null | undefined) => (value === null || value === undefined || value === "" ? NaN : typeof value === "string" ? Number(value) : value);

/** A rand amount with an explicit sign (+R 12,00 / −R 3,00), for PnL. */
export function formatSignedZAR(amount: number | string | null | undefined): string {
  const value = toNumber(amount);
  if (!Number.isFinite(value)) return "—";
  return `${value > 0 ? "+" : value < 0 ? "−" : ""}${zar.format(Math.abs(value))}`;
}

/** An amount in its asset: rand through formatZAR, anything else as a number with its code. */
export function formatAmount(amount: number | string | null | undefined, asset: string): string {
  const value = toNumber(amount);
  if (!Number.isFinite(value)) return "—";
  if (asset === "ZAR") return zar.format(value);
  return `${formatNumber(value, 8)} ${asset}`;
}

/** A plain number in the en-ZA style, with up to `maxDigits` decimals. */
export function formatNumber(value: number | string | null | undefined, maxDigits = 2): string {
  const n = toNumber(value);
  if (!Number.isFinite(n)) return "—";
  return new Intl.NumberFormat("en-ZA", { maximumFractionDigits: maxDigits }).format(n);
}

/** A fraction (0.0123) as a percentage (1.23%). */
export function formatPercent(fraction: number | string | null | undefined, digits = 2): string {
  const n = toNumber(fraction);
  if (!Number.isFinite(n)) return "—";
  return new Intl.NumberFormat("en-ZA", { style: "percent", minimumFractionDigits: digits, maximumFractionDigits: digits }).format(n);
}

const timeOnly = new Intl.DateTimeFormat("en-ZA", { hour: "2-digit", minute: "2-digit", second: "2-digit" });

export function formatTime(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? "—" : timeOnly.format(date);
}
