import { createContext, useCallback, useContext, useEffect, useMemo, useReducer, useRef, type ReactNode } from "react";
import { ApiClient } from "../api/client";
import { endpoints, type Api } from "../api/endpoints";
import { ApiError, describeError, isTransient } from "../api/errors";
import type { Credentials, User } from "../api/types";
import { navigate } from "../router/hashRouter";
import { authReducer, initialAuthState, type AuthState } from "./reducer";
import { createTokenStore } from "./tokenStore";

export interface AuthContextValue {
  state: AuthState;
  api: Api;
  /** The session id of this browser, to mark "this device". */
  sessionId: () => string | null;
  signIn: (credentials: Credentials) => Promise<boolean>;
  register: (email: string, password: string) => Promise<boolean>;
  cancelMfa: () => void;
  signOut: () => Promise<void>;
  setUser: (user: User) => void;
  /** The current access token (memory only), for the WebSocket's auth message. */
  accessToken: () => string | null;
  /** Trade the refresh token for a new pair (shared with the API client's own refreshes). */
  refreshSession: () => Promise<boolean>;
  /** The server ended this session (the WebSocket closed 4403): drop it and ask to sign in. */
  endSession: () => void;
}

const AuthContext = createContext<AuthContextValue | null>(null);

function browserStorage(): Storage | null {
  try {
    return window.localStorage;
  } catch {
    return null;
  }
}

function browserLock<R>(task: () => Promise<R>): Promise<R> {
  const locks = typeof navigator !== "undefined" ? navigator.locks : undefined;
  if (!locks) return task();
  return locks.request("amarktai-token-refresh", task) as Promise<R>;
}

export function AuthProvider({ children }: { children: ReactNode }) {
  const tokens = useMemo(() => createTokenStore(browserStorage()), []);
  const [state, dispatch] = useReducer(authReducer, tokens.getRefresh() !== null, initialAuthState);
  const expiredRef = useRef<() => void>(() => undefined);
  expiredRef.current = () => dispatch({ type: "signedOut", reason: "expired" });

  const client = useMemo(() => new ApiClient({ tokens, lock: browserLock, onSessionExpired: () => expiredRef.current() }), [tokens]);
  const api = useMemo(() => endpoints(client), [client]);

  // Restore the stored session. Only the server rejecting it signs out: offline or a server
  // that is down keeps it, and the restore is tried again when the connection returns.
  useEffect(() => {
    if (tokens.getRefresh() === null) return;
    let done = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const attempt = () => {
      if (done) return;
      clearTimeout(timer);
      api.auth.me().then(
        (user) => {
          done = true;
          dispatch({ type: "restored", user });
        },
        (err: unknown) => {
          if (done) return;
          if (isTransient(err) && tokens.getRefresh() !== null) {
            dispatch({ type: "restorePending", error: describeError(err) });
            timer = setTimeout(attempt, 10_000);
            return;
          }
          done = true;
          dispatch({ type: "restored", user: null });
        },
      );
    };
    attempt();
    window.addEventListener("online", attempt);
    return () => {
      done = true;
      clearTimeout(timer);
      window.removeEventListener("online", attempt);
    };
  }, [api, tokens]);

  const signIn = useCallback(
    async (credentials: Credentials) => {
      dispatch({ type: "submit" });
      try {
        tokens.save(await api.auth.login(credentials));
        dispatch({ type: "signedIn", user: await api.auth.me() });
        return true;
      } catch (err) {
        if (err instanceof ApiError && err.code === "mfa_required") dispatch({ type: "mfaRequired" });
        else dispatch({ type: "failed", error: describeError(err) });
        return false;
      }
    },
    [api, tokens],
  );

  const register = useCallback(
    async (email: string, password: string) => {
      dispatch({ type: "submit" });
      try {
        await api.auth.register(email, password);
      } catch (err) {
        dispatch({ type: "failed", error: describeError(err) });
        return false;
      }
      return signIn({ email, password });
    },
    [api, signIn],
  );

  const signOut = useCallback(async () => {
    try {
      await api.auth.logout();
    } catch {
      // The session is dropped locally either way; the server expires it on its own.
    }
    tokens.clear();
    navigate("/", { replace: true });
    dispatch({ type: "signedOut", reason: "manual" });
  }, [api, tokens]);

  const value = useMemo<AuthContextValue>(
    () => ({
      state,
      api,
      sessionId: () => tokens.sessionId(),
      signIn,
      register,
      cancelMfa: () => dispatch({ type: "cancelMfa" }),
      signOut,
      setUser: (user: User) => dispatch({ type: "userUpdated", user }),
      accessToken: () => tokens.getAccess(),
      refreshSession: () => client.refresh(),
      endSession: () => {
        // Already signed out here (our own logout closed the socket): nothing to end.
        if (tokens.getRefresh() === null && tokens.getAccess() === null) return;
        tokens.clear();
        navigate("/", { replace: true });
        dispatch({ type: "signedOut", reason: "expired" });
      },
    }),
    [state, api, client, tokens, signIn, register, signOut],
  );
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): AuthContextValue {
  const value = useContext(AuthContext);
  if (value === null) throw new Error("useAuth must be used inside <AuthProvider>");
  return value;
}

/** The signed-in user; only call below the signed-in gate. */
export function useUser(): User {
  const { state } = useAuth();
  if (state.user === null) throw new Error("useUser needs a signed-in user");
  return state.user;
}
