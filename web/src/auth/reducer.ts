import type { User } from "../api/types";

/**
 * The sign-in flow as a state machine:
 * restoring → signedOut ⇄ mfa → signedIn → signedOut (manual or expired).
 * Passwords never enter this state; the form keeps them.
 */
export type AuthStatus = "restoring" | "signedOut" | "mfa" | "signedIn";

export interface AuthState {
  status: AuthStatus;
  user: User | null;
  pending: boolean;
  error: string | null;
  notice: string | null;
}

export type AuthAction =
  | { type: "restored"; user: User | null }
  /** The stored session could not be checked (offline, server down): keep it and keep trying. */
  | { type: "restorePending"; error: string }
  | { type: "submit" }
  | { type: "mfaRequired" }
  | { type: "signedIn"; user: User }
  | { type: "failed"; error: string }
  | { type: "cancelMfa" }
  | { type: "signedOut"; reason: "manual" | "expired" }
  | { type: "userUpdated"; user: User };

export const initialAuthState = (hasStoredSession: boolean): AuthState => ({
  status: hasStoredSession ? "restoring" : "signedOut",
  user: null,
  pending: false,
  error: null,
  notice: null,
});

export function authReducer(state: AuthState, action: AuthAction): AuthState {
  switch (action.type) {
    case "restored":
      return action.user
        ? { ...state, status: "signedIn", user: action.user, pending: false, error: null }
        : { ...state, status: "signedOut", user: null, pending: false };
    case "restorePending":
      return state.status === "restoring" ? { ...state, error: action.error } : state;
    case "submit":
      return { ...state, pending: true, error: null, notice: null };
    case "mfaRequired":
      return { ...state, status: "mfa", pending: false, error: state.status === "mfa" ? "That code was not accepted." : null };
    case "signedIn":
      return { status: "signedIn", user: action.user, pending: false, error: null, notice: null };
    case "failed":
      return { ...state, pending: false, error: action.error };
    case "cancelMfa":
      return { ...state, status: "signedOut", pending: false, error: null };
    case "signedOut":
      return {
        status: "signedOut",
        user: null,
        pending: false,
        error: null,
        notice: action.reason === "expired" ? "Your session ended. Please sign in again." : null,
      };
    case "userUpdated":
      return state.status === "signedIn" ? { ...state, user: action.user } : state;
  }
}
