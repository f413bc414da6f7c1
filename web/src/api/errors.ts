/** Every API failure becomes an ApiError with the server's stable machine code. */

export interface ErrorBody {
  error: { code: string; message: string; details?: unknown };
}

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: unknown;
  /** Seconds to wait before retrying, from a 429's Retry-After header. */
  readonly retryAfter: number | null;

  constructor(status: number, code: string, message: string, details: unknown = null, retryAfter: number | null = null) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.details = details;
    this.retryAfter = retryAfter;
  }
}

export function isErrorBody(value: unknown): value is ErrorBody {
  if (typeof value !== "object" || value === null || !("error" in value)) return false;
  const inner = (value as { error: unknown }).error;
  return typeof inner === "object" && inner !== null && typeof (inner as { code?: unknown }).code === "string";
}

/** Retry-After is either delta-seconds or an HTTP date. */
export function parseRetryAfter(header: string | null, now: number = Date.now()): number | null {
  if (header === null || header.trim() === "") return null;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, Math.ceil(seconds));
  const date = Date.parse(header);
  if (Number.isNaN(date)) return null;
  return Math.max(0, Math.ceil((date - now) / 1000));
}

const FALLBACK_CODES: Record<number, string> = {
  400: "bad_request",
  401: "unauthorized",
  403: "forbidden",
  404: "not_found",
  409: "conflict",
  413: "payload_too_large",
  422: "validation_error",
  429: "rate_limited",
};

/** Map a status, parsed body (or null) and Retry-After header into an ApiError. */
export function toApiError(status: number, body: unknown, retryAfterHeader: string | null = null): ApiError {
  const retryAfter = parseRetryAfter(retryAfterHeader);
  if (isErrorBody(body)) {
    const { code, message, details } = body.error;
    return new ApiError(status, code, message || code, details ?? null, retryAfter);
  }
  const code = FALLBACK_CODES[status] ?? (status >= 500 ? "server_error" : "http_error");
  return new ApiError(status, code, `The server answered ${status}.`, body, retryAfter);
}

export function networkError(cause: unknown): ApiError {
  const detail = cause instanceof Error ? cause.message : String(cause);
  return new ApiError(0, "network_error", "Cannot reach the server. Check your connection.", detail);
}

/** A sentence fit to show a person. */
export function describeError(err: unknown): string {
  if (err instanceof ApiError) {
    if (err.status === 429 && err.retryAfter !== null) return `${err.message} Try again in ${err.retryAfter} s.`;
    return err.message.charAt(0).toUpperCase() + err.message.slice(1);
  }
  return err instanceof Error ? err.message : "Something went wrong.";
}

/** True when the server says a feature's data is not installed here (a setup state, not a
 * failure to retry): e.g. stress tests without the recorded market data. */
export function isUnavailable(error: unknown, code: string): boolean {
  return error instanceof ApiError && error.status === 404 && error.code === code;
}

/** A failure that says nothing about the session: no connection, or the server down or busy. */
export function isTransient(err: unknown): boolean {
  return err instanceof ApiError && (err.code === "network_error" || err.status === 0 || err.status === 429 || err.status >= 500);
}
