import { ApiError, networkError, toApiError } from "./errors";
import type { Tokens } from "./types";

/** Where the client reads and writes credentials; see auth/tokenStore.ts. */
export interface TokenStore {
  getAccess(): string | null;
  getRefresh(): string | null;
  save(tokens: Tokens): void;
  clear(): void;
}

export type HttpMethod = "GET" | "POST" | "PATCH" | "PUT" | "DELETE";

export interface RequestOptions {
  body?: unknown;
  query?: Record<string, string | number | undefined>;
  /** Send the bearer token and refresh it on 401 (default true). */
  auth?: boolean;
  signal?: AbortSignal;
}

export interface ClientOptions {
  tokens: TokenStore;
  baseUrl?: string;
  fetchFn?: typeof fetch;
  /** Called once the refresh token is gone or rejected: the person must sign in again. */
  onSessionExpired?: () => void;
  /** GETs answered 429 are retried once when Retry-After is at most this many seconds. */
  maxAutoRetrySeconds?: number;
  sleep?: (ms: number) => Promise<void>;
  /** Serialises refreshes across tabs (the browser passes navigator.locks); default: none. */
  lock?: <R>(task: () => Promise<R>) => Promise<R>;
}

const REFRESH_PATH = "/api/v1/auth/refresh";

export class ApiClient {
  private readonly tokens: TokenStore;
  private readonly baseUrl: string;
  private readonly fetchFn: typeof fetch;
  private readonly onSessionExpired: () => void;
  private readonly maxAutoRetrySeconds: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly lock: <R>(task: () => Promise<R>) => Promise<R>;
  private refreshing: Promise<boolean> | null = null;
  /** Why the last refresh failed when the server did not reject the session (5xx, 429): kept signed in. */
  private refreshFailure: ApiError | null = null;

  constructor(options: ClientOptions) {
    this.tokens = options.tokens;
    this.baseUrl = options.baseUrl ?? "";
    this.fetchFn = options.fetchFn ?? ((input, init) => globalThis.fetch(input, init));
    this.onSessionExpired = options.onSessionExpired ?? (() => undefined);
    this.maxAutoRetrySeconds = options.maxAutoRetrySeconds ?? 3;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.lock = options.lock ?? ((task) => task());
  }

  get<T>(path: string, options: RequestOptions = {}): Promise<T> {
    return this.request<T>("GET", path, options);
  }

  post<T>(path: string, body?: unknown, options: RequestOptions = {}): Promise<T> {
    return this.request<T>("POST", path, { ...options, body });
  }

  patch<T>(path: string, body: unknown, options: RequestOptions = {}): Promise<T> {
    return this.request<T>("PATCH", path, { ...options, body });
  }

  put<T>(path: string, body: unknown, options: RequestOptions = {}): Promise<T> {
    return this.request<T>("PUT", path, { ...options, body });
  }

  delete<T>(path: string, options: RequestOptions = {}): Promise<T> {
    return this.request<T>("DELETE", path, options);
  }

  async request<T>(method: HttpMethod, path: string, options: RequestOptions = {}): Promise<T> {
    const auth = options.auth ?? true;
    // No usable access token (a reload: it lives in memory only) but a refresh token:
    // refresh first instead of sending a request that can only answer 401.
    if (auth && this.tokens.getRefresh() !== null && !accessUsable(this.tokens.getAccess())) {
      if (!(await this.refresh())) this.throwIfStillSignedIn();
    }
    let response = await this.send(method, path, options, auth);
    if (response.status === 401 && auth && this.tokens.getRefresh() !== null) {
      if (await this.refresh()) response = await this.send(method, path, options, auth);
      else this.throwIfStillSignedIn();
    }
    if (response.status === 429 && method === "GET") {
      const wait = toApiError(429, null, response.headers.get("Retry-After")).retryAfter;
      if (wait !== null && wait <= this.maxAutoRetrySeconds) {
        await this.sleep(wait * 1000);
        response = await this.send(method, path, options, auth);
      }
    }
    if (!response.ok) {
      const error = toApiError(response.status, await readJson(response), response.headers.get("Retry-After"));
      if (response.status === 401 && auth) this.expire();
      throw error;
    }
    return (await readJson(response)) as T;
  }

  /**
   * Trade the refresh token for a new pair. Concurrent callers share one request,
   * because the server rotates refresh tokens and treats reuse as theft.
   */
  refresh(): Promise<boolean> {
    if (this.refreshing === null) {
      this.refreshing = this.lock(() => this.doRefresh()).finally(() => {
        this.refreshing = null;
      });
    }
    return this.refreshing;
  }

  private async doRefresh(): Promise<boolean> {
    const refreshToken = this.tokens.getRefresh();
    if (refreshToken === null) return false;
    this.refreshFailure = null;
    const response = await this.send("POST", REFRESH_PATH, { body: { refresh_token: refreshToken } }, false);
    if (!response.ok) {
      // Only the server rejecting the session signs out; a server that is down or busy does not.
      if (response.status === 401 || response.status === 403) this.expire();
      else this.refreshFailure = toApiError(response.status, await readJson(response), response.headers.get("Retry-After"));
      return false;
    }
    this.tokens.save((await readJson(response)) as Tokens);
    return true;
  }

  /** The refresh failed but the session was not rejected (server down, 5xx): fail this request, stay signed in. */
  private throwIfStillSignedIn(): void {
    if (this.tokens.getRefresh() !== null) throw this.refreshFailure ?? new ApiError(503, "server_error", "The server could not renew your session. Try again shortly.");
  }

  private expire(): void {
    const hadSession = this.tokens.getRefresh() !== null || this.tokens.getAccess() !== null;
    this.tokens.clear();
    if (hadSession) this.onSessionExpired();
  }

  private async send(method: HttpMethod, path: string, options: RequestOptions, auth: boolean): Promise<Response> {
    const headers: Record<string, string> = { Accept: "application/json" };
    const access = auth ? this.tokens.getAccess() : null;
    if (access !== null) headers.Authorization = `Bearer ${access}`;
    const init: RequestInit = { method, headers, credentials: "same-origin" };
    if (options.body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(options.body);
    }
    if (options.signal) init.signal = options.signal;
    try {
      return await this.fetchFn(this.baseUrl + path + queryString(options.query), init);
    } catch (cause) {
      if (cause instanceof DOMException && cause.name === "AbortError") throw cause;
      throw networkError(cause);
    }
  }
}

/** Whether an access token (a JWT) is present and not about to expire; a token we cannot read counts as usable. */
export function accessUsable(token: string | null, nowMs: number = Date.now()): boolean {
  if (token === null || token === "") return false;
  const payload = token.split(".")[1];
  if (!payload) return true;
  try {
    const claims = JSON.parse(atob(payload.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(payload.length / 4) * 4, "="))) as { exp?: unknown };
    return typeof claims.exp !== "number" || claims.exp * 1000 > nowMs + 5000;
  } catch {
    return true;
  }
}

function queryString(query: RequestOptions["query"]): string {
  if (!query) return "";
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value !== undefined) params.set(key, String(value));
  const text = params.toString();
  return text ? `?${text}` : "";
}

async function readJson(response: Response): Promise<unknown> {
  if (response.status === 204) return undefined;
  const text = await response.text();
  if (text === "") return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

export { ApiError };
