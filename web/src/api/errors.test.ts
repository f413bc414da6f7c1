import { describe, expect, it } from "vitest";
import { ApiError, describeError, isErrorBody, isTransient, isUnavailable, networkError, parseRetryAfter, toApiError } from "./errors";

describe("toApiError", () => {
  it("keeps the server's code, message and details", () => {
    const details = [{ loc: ["body", "password"], msg: "Field required", type: "missing" }];
    const error = toApiError(422, { error: { code: "validation_error", message: "request is not valid", details } });
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 422, code: "validation_error", message: "request is not valid", details, retryAfter: null });
  });

  it("falls back to a code from the status when the body has another shape", () => {
    expect(toApiError(404, "<html>")).toMatchObject({ code: "not_found", details: "<html>" });
    expect(toApiError(502, undefined)).toMatchObject({ code: "server_error", message: "The server answered 502." });
    expect(toApiError(418, null).code).toBe("http_error");
  });

  it("reads Retry-After", () => {
    expect(toApiError(429, { error: { code: "locked_out", message: "too many attempts" } }, "30").retryAfter).toBe(30);
  });
});

describe("parseRetryAfter", () => {
  it("accepts seconds and HTTP dates", () => {
    expect(parseRetryAfter("5")).toBe(5);
    expect(parseRetryAfter("1.2")).toBe(2);
    const now = Date.parse("2026-01-01T00:00:00Z");
    expect(parseRetryAfter("Thu, 01 Jan 2026 00:00:10 GMT", now)).toBe(10);
  });
  it("ignores missing or garbage values", () => {
    expect(parseRetryAfter(null)).toBeNull();
    expect(parseRetryAfter("")).toBeNull();
    expect(parseRetryAfter("soon")).toBeNull();
  });
});

describe("isErrorBody / describeError", () => {
  it("recognises only the documented shape", () => {
    expect(isErrorBody({ error: { code: "x", message: "y" } })).toBe(true);
    expect(isErrorBody({ error: "x" })).toBe(false);
    expect(isErrorBody({ detail: "x" })).toBe(false);
    expect(isErrorBody(null)).toBe(false);
  });
  it("writes a sentence for people, with the wait on 429", () => {
    expect(describeError(new ApiError(401, "invalid_credentials", "invalid credentials"))).toBe("Invalid credentials");
    expect(describeError(new ApiError(429, "locked_out", "Too many attempts.", null, 30))).toBe("Too many attempts. Try again in 30 s.");
    expect(describeError(new Error("boom"))).toBe("boom");
  });
});

describe("isUnavailable", () => {
  it("recognises a missing-data 404 by its code only", () => {
    const missing = toApiError(404, { error: { code: "stress_data_unavailable", message: "no shared/data folder" } });
    expect(isUnavailable(missing, "stress_data_unavailable")).toBe(true);
    expect(isUnavailable(missing, "other_code")).toBe(false);
    expect(isUnavailable(toApiError(500, { error: { code: "stress_data_unavailable", message: "x" } }), "stress_data_unavailable")).toBe(false);
    expect(isUnavailable(new Error("boom"), "stress_data_unavailable")).toBe(false);
  });
});

describe("isTransient", () => {
  it("is true for no connection and a server that is down, false for a rejected session", () => {
    expect(isTransient(networkError(new TypeError("Failed to fetch")))).toBe(true);
    expect(isTransient(toApiError(502, null))).toBe(true);
    expect(isTransient(toApiError(401, { error: { code: "token_expired", message: "x", details: null } }))).toBe(false);
    expect(isTransient(new Error("x"))).toBe(false);
  });
});
