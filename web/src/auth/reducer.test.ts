import { describe, expect, it } from "vitest";
import type { User } from "../api/types";
import { authReducer, initialAuthState, type AuthAction, type AuthState } from "./reducer";

const user: User = { id: "u1", email: "a@example.com", role: "trader", is_active: true, totp_enabled: false, created_at: "2026-01-01T00:00:00Z" };
const run = (state: AuthState, ...actions: AuthAction[]) => actions.reduce(authReducer, state);

describe("authReducer", () => {
  it("starts by restoring only when a session is stored", () => {
    expect(initialAuthState(true).status).toBe("restoring");
    expect(initialAuthState(false).status).toBe("signedOut");
  });

  it("restores a stored session or falls back to sign-in", () => {
    expect(run(initialAuthState(true), { type: "restored", user })).toMatchObject({ status: "signedIn", user });
    expect(run(initialAuthState(true), { type: "restored", user: null })).toMatchObject({ status: "signedOut", user: null });
  });

  it("keeps restoring (still signed in) while the server cannot be reached, then restores", () => {
    const waiting = run(initialAuthState(true), { type: "restorePending", error: "Cannot reach the server." });
    expect(waiting).toMatchObject({ status: "restoring", error: "Cannot reach the server." });
    expect(run(waiting, { type: "restored", user })).toMatchObject({ status: "signedIn", user, error: null });
  });

  it("signs in without 2FA", () => {
    const submitting = run(initialAuthState(false), { type: "submit" });
    expect(submitting.pending).toBe(true);
    expect(run(submitting, { type: "signedIn", user })).toEqual({ status: "signedIn", user, pending: false, error: null, notice: null });
  });

  it("goes through the 2FA step when the server asks for it", () => {
    const mfa = run(initialAuthState(false), { type: "submit" }, { type: "mfaRequired" });
    expect(mfa).toMatchObject({ status: "mfa", pending: false, error: null });
    const wrongCode = run(mfa, { type: "submit" }, { type: "failed", error: "Invalid credentials" });
    expect(wrongCode).toMatchObject({ status: "mfa", error: "Invalid credentials", pending: false });
    expect(run(wrongCode, { type: "submit" }, { type: "signedIn", user })).toMatchObject({ status: "signedIn", error: null });
  });

  it("can leave the 2FA step", () => {
    const mfa = run(initialAuthState(false), { type: "mfaRequired" });
    expect(run(mfa, { type: "cancelMfa" })).toMatchObject({ status: "signedOut", error: null });
  });

  it("keeps the person on the form with an error when sign-in fails", () => {
    expect(run(initialAuthState(false), { type: "submit" }, { type: "failed", error: "Invalid credentials" })).toMatchObject({ status: "signedOut", error: "Invalid credentials", pending: false });
  });

  it("tells the person when their session expired, but not after a manual sign-out", () => {
    const signedIn = run(initialAuthState(false), { type: "signedIn", user });
    expect(run(signedIn, { type: "signedOut", reason: "expired" })).toMatchObject({ status: "signedOut", user: null, notice: "Your session ended. Please sign in again." });
    expect(run(signedIn, { type: "signedOut", reason: "manual" }).notice).toBeNull();
  });

  it("clears the notice on the next attempt", () => {
    const expired = run(initialAuthState(false), { type: "signedIn", user }, { type: "signedOut", reason: "expired" });
    expect(run(expired, { type: "submit" }).notice).toBeNull();
  });

  it("updates the user only while signed in", () => {
    const updated = { ...user, totp_enabled: true };
    expect(run(initialAuthState(false), { type: "signedIn", user }, { type: "userUpdated", user: updated }).user).toEqual(updated);
    expect(run(initialAuthState(false), { type: "userUpdated", user: updated }).user).toBeNull();
  });
});
