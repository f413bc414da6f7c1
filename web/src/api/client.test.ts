import { describe, expect, it, vi } from "vitest";
import { ApiClient, type TokenStore } from "./client";
import { ApiError } from "./errors";
import type { Tokens } from "./types";

interface Call {
  url: string;
  method: string;
  auth: string | null;
  body: unknown;
}

function memoryTokens(access: string | null, refresh: string | null): TokenStore & { state: { access: string | null; refresh: string | null } } {
  const state = { access, refresh };
  return {
    state,
    getAccess: () => state.access,
    getRefresh: () => state.refresh,
    save: (t: Tokens) => {
      state.access = t.access_token;
      state.refresh = t.refresh_token;
    },
    clear: () => {
      state.access = null;
      state.refresh = null;
    },
  };
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(body === undefined ? null : JSON.stringify(body), { status, headers: { "Content-Type": "application/json", ...headers } });

const tokens = (n: number): Tokens => ({ access_token: `access-${n}`, refresh_token: `refresh-${n}`, expires_in: 900, session_id: "s1" });

/** A fake server: `handler` answers each call; every call is recorded. */
function fakeFetch(handler: (call: Call) => Response | Promise<Response>) {
  const calls: Call[] = [];
  const fetchFn = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const headers = (init?.headers ?? {}) as Record<string, string>;
    const call = { url: String(input), method: init?.method ?? "GET", auth: headers.Authorization ?? null, body: init?.body ? JSON.parse(String(init.body)) : undefined };
    calls.push(call);
    return handler(call);
  });
  return { calls, fetchFn: fetchFn as unknown as typeof fetch };
}

const expired = { error: { code: "token_expired", message: "token expired", details: null } };

describe("ApiClient auth", () => {
  it("attaches the bearer token and parses JSON", async () => {
    const { calls, fetchFn } = fakeFetch(() => json(200, { id: "u1" }));
    const client = new ApiClient({ tokens: memoryTokens("access-0", "refresh-0"), fetchFn });
    await expect(client.get("/api/v1/auth/me")).resolves.toEqual({ id: "u1" });
    expect(calls[0]?.auth).toBe("Bearer access-0");
  });

  it("refreshes once on 401 and retries with the new token", async () => {
    const store = memoryTokens("access-0", "refresh-0");
    const { calls, fetchFn } = fakeFetch((call) => {
      if (call.url.endsWith("/auth/refresh")) return json(200, tokens(1));
      return call.auth === "Bearer access-1" ? json(200, { ok: true }) : json(401, expired);
    });
    const client = new ApiClient({ tokens: store, fetchFn });
    await expect(client.get("/api/v1/auth/me")).resolves.toEqual({ ok: true });
    expect(calls.map((c) => c.url)).toEqual(["/api/v1/auth/me", "/api/v1/auth/refresh", "/api/v1/auth/me"]);
    expect(calls[1]?.body).toEqual({ refresh_token: "refresh-0" });
    expect(calls[1]?.auth).toBeNull();
    expect(store.state).toEqual({ access: "access-1", refresh: "refresh-1" });
  });

  it("shares one refresh between concurrent 401s (rotation makes a second refresh fatal)", async () => {
    const { calls, fetchFn } = fakeFetch((call) => {
      if (call.url.endsWith("/auth/refresh")) return json(200, tokens(1));
      return call.auth === "Bearer access-1" ? json(200, { ok: call.url }) : json(401, expired);
    });
    const client = new ApiClient({ tokens: memoryTokens("access-0", "refresh-0"), fetchFn });
    await Promise.all([client.get("/a"), client.get("/b"), client.get("/c")]);
    expect(calls.filter((c) => c.url.endsWith("/auth/refresh"))).toHaveLength(1);
  });

  it("does not loop: a second 401 after refreshing ends the session", async () => {
    const store = memoryTokens("access-0", "refresh-0");
    const onSessionExpired = vi.fn();
    const { calls, fetchFn } = fakeFetch((call) => (call.url.endsWith("/auth/refresh") ? json(200, tokens(1)) : json(401, expired)));
    const client = new ApiClient({ tokens: store, fetchFn, onSessionExpired });
    await expect(client.get("/x")).rejects.toMatchObject({ status: 401, code: "token_expired" });
    expect(calls).toHaveLength(3);
    expect(store.state).toEqual({ access: null, refresh: null });
    expect(onSessionExpired).toHaveBeenCalledTimes(1);
  });

  it("clears tokens and reports expiry when the refresh token is rejected", async () => {
    const store = memoryTokens("access-0", "refresh-0");
    const onSessionExpired = vi.fn();
    const { fetchFn } = fakeFetch((call) =>
      call.url.endsWith("/auth/refresh") ? json(401, { error: { code: "refresh_reused", message: "session revoked", details: null } }) : json(401, expired),
    );
    const client = new ApiClient({ tokens: store, fetchFn, onSessionExpired });
    await expect(client.get("/x")).rejects.toBeInstanceOf(ApiError);
    expect(store.state.refresh).toBeNull();
    expect(onSessionExpired).toHaveBeenCalledTimes(1);
  });

  it("never refreshes for unauthenticated calls such as login (mfa_required is a normal answer)", async () => {
    const { calls, fetchFn } = fakeFetch(() => json(401, { error: { code: "mfa_required", message: "two-factor code required", details: null } }));
    const store = memoryTokens(null, "refresh-0");
    const client = new ApiClient({ tokens: store, fetchFn });
    await expect(client.post("/api/v1/auth/login", { email: "a", password: "b" }, { auth: false })).rejects.toMatchObject({ code: "mfa_required" });
    expect(calls).toHaveLength(1);
    expect(calls[0]?.auth).toBeNull();
    expect(store.state.refresh).toBe("refresh-0");
  });

  it("uses a lock around refresh when given one", async () => {
    let locked = 0;
    const lock = <R,>(task: () => Promise<R>): Promise<R> => {
      locked++;
      return task();
    };
    const { fetchFn } = fakeFetch((call) => {
      if (call.url.endsWith("/auth/refresh")) return json(200, tokens(1));
      return call.auth === "Bearer access-1" ? json(200, {}) : json(401, expired);
    });
    const client = new ApiClient({ tokens: memoryTokens("access-0", "refresh-0"), fetchFn, lock });
    await client.get("/x");
    expect(locked).toBe(1);
  });
});

describe("ApiClient responses", () => {
  it("returns undefined for 204", async () => {
    const { fetchFn } = fakeFetch(() => new Response(null, { status: 204 }));
    const client = new ApiClient({ tokens: memoryTokens("a", "r"), fetchFn });
    await expect(client.delete("/api/v1/api-keys/1")).resolves.toBeUndefined();
  });

  it("maps the error shape to ApiError", async () => {
    const { fetchFn } = fakeFetch(() => json(409, { error: { code: "email_taken", message: "email already registered", details: { field: "email" } } }));
    const client = new ApiClient({ tokens: memoryTokens(null, null), fetchFn });
    const error = await client.post("/api/v1/auth/register", {}, { auth: false }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 409, code: "email_taken", message: "email already registered", details: { field: "email" } });
  });

  it("turns a failed fetch into a network_error", async () => {
    const fetchFn = (() => Promise.reject(new TypeError("Failed to fetch"))) as unknown as typeof fetch;
    const client = new ApiClient({ tokens: memoryTokens(null, null), fetchFn });
    await expect(client.get("/x")).rejects.toMatchObject({ status: 0, code: "network_error" });
  });

  it("sends query parameters, skipping undefined ones", async () => {
    const { calls, fetchFn } = fakeFetch(() => json(200, { items: [], next_cursor: null }));
    const client = new ApiClient({ tokens: memoryTokens("a", "r"), fetchFn });
    await client.get("/api/v1/admin/audit", { query: { limit: 25, before: undefined } });
    expect(calls[0]?.url).toBe("/api/v1/admin/audit?limit=25");
  });
});

describe("ApiClient 429", () => {
  const limited = (seconds: string) => json(429, { error: { code: "rate_limited", message: "too many requests", details: null } }, { "Retry-After": seconds });

  it("waits Retry-After and retries a GET once when the wait is short", async () => {
    let n = 0;
    const { calls, fetchFn } = fakeFetch(() => (n++ === 0 ? limited("2") : json(200, { ok: true })));
    const sleep = vi.fn(() => Promise.resolve());
    const client = new ApiClient({ tokens: memoryTokens("a", "r"), fetchFn, sleep });
    await expect(client.get("/x")).resolves.toEqual({ ok: true });
    expect(sleep).toHaveBeenCalledWith(2000);
    expect(calls).toHaveLength(2);
  });

  it("gives up with retryAfter when the wait is long", async () => {
    const { calls, fetchFn } = fakeFetch(() => limited("30"));
    const sleep = vi.fn(() => Promise.resolve());
    const client = new ApiClient({ tokens: memoryTokens("a", "r"), fetchFn, sleep });
    await expect(client.get("/x")).rejects.toMatchObject({ status: 429, retryAfter: 30 });
    expect(sleep).not.toHaveBeenCalled();
    expect(calls).toHaveLength(1);
  });

  it("never replays a POST", async () => {
    const { calls, fetchFn } = fakeFetch(() => limited("1"));
    const client = new ApiClient({ tokens: memoryTokens(null, null), fetchFn, sleep: () => Promise.resolve() });
    await expect(client.post("/api/v1/auth/login", {}, { auth: false })).rejects.toMatchObject({ status: 429, retryAfter: 1, code: "rate_limited" });
    expect(calls).toHaveLength(1);
  });
});

const jwt = (exp: number) => `h.${btoa(JSON.stringify({ sub: "u1", exp })).replace(/=+$/, "")}.sig`;

describe("ApiClient refresh before the first call (issue 15 item 7)", () => {
  it("refreshes first when there is no access token (a reload), so /auth/me never answers 401", async () => {
    const store = memoryTokens(null, "refresh-0");
    const { calls, fetchFn } = fakeFetch((call) => (call.url.endsWith("/auth/refresh") ? json(200, tokens(1)) : call.auth === "Bearer access-1" ? json(200, { id: "u1" }) : json(401, expired)));
    const client = new ApiClient({ tokens: store, fetchFn });
    await expect(client.get("/api/v1/auth/me")).resolves.toEqual({ id: "u1" });
    expect(calls.map((c) => c.url)).toEqual(["/api/v1/auth/refresh", "/api/v1/auth/me"]);
  });

  it("refreshes first when the access token has expired", async () => {
    const store = memoryTokens(jwt(Math.floor(Date.now() / 1000) - 60), "refresh-0");
    const { calls, fetchFn } = fakeFetch((call) => (call.url.endsWith("/auth/refresh") ? json(200, tokens(1)) : json(200, { id: "u1" })));
    await new ApiClient({ tokens: store, fetchFn }).get("/api/v1/auth/me");
    expect(calls.map((c) => c.url)).toEqual(["/api/v1/auth/refresh", "/api/v1/auth/me"]);
    expect(calls[1]?.auth).toBe("Bearer access-1");
  });

  it("keeps a fresh token without refreshing", async () => {
    const store = memoryTokens(jwt(Math.floor(Date.now() / 1000) + 600), "refresh-0");
    const { calls, fetchFn } = fakeFetch(() => json(200, { id: "u1" }));
    await new ApiClient({ tokens: store, fetchFn }).get("/api/v1/auth/me");
    expect(calls.map((c) => c.url)).toEqual(["/api/v1/auth/me"]);
  });

  it("stays signed in when the refresh cannot reach the server (offline reload)", async () => {
    const store = memoryTokens(null, "refresh-0");
    const onSessionExpired = vi.fn();
    const fetchFn = vi.fn(async () => {
      throw new TypeError("Failed to fetch");
    }) as unknown as typeof fetch;
    const client = new ApiClient({ tokens: store, fetchFn, onSessionExpired });
    await expect(client.get("/api/v1/auth/me")).rejects.toMatchObject({ code: "network_error" });
    expect(store.state.refresh).toBe("refresh-0");
    expect(onSessionExpired).not.toHaveBeenCalled();
  });

  it("stays signed in when the server answers the refresh with 502", async () => {
    const store = memoryTokens(null, "refresh-0");
    const onSessionExpired = vi.fn();
    const { calls, fetchFn } = fakeFetch(() => new Response("Bad gateway", { status: 502 }));
    const client = new ApiClient({ tokens: store, fetchFn, onSessionExpired });
    await expect(client.get("/api/v1/auth/me")).rejects.toMatchObject({ status: 502 });
    expect(calls.map((c) => c.url)).toEqual(["/api/v1/auth/refresh"]);
    expect(store.state.refresh).toBe("refresh-0");
    expect(onSessionExpired).not.toHaveBeenCalled();
  });

  it("signs out when the server rejects the refresh token (401)", async () => {
    const store = memoryTokens(null, "refresh-0");
    const onSessionExpired = vi.fn();
    const { fetchFn } = fakeFetch(() => json(401, expired));
    const client = new ApiClient({ tokens: store, fetchFn, onSessionExpired });
    await expect(client.get("/api/v1/auth/me")).rejects.toBeInstanceOf(ApiError);
    expect(store.state.refresh).toBeNull();
    expect(onSessionExpired).toHaveBeenCalledTimes(1);
  });
});
