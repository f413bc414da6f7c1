import type { TokenStore } from "../api/client";
import type { Tokens } from "../api/types";

const REFRESH_KEY = "amarktai.refresh_token";

/** The subset of Storage we use, so tests can pass a Map-backed fake. */
export interface KeyValueStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

/**
 * Access token in memory only (never persisted, gone when the tab closes);
 * refresh token in localStorage so a reload or a new tab stays signed in.
 * Trade-off: script running in the page (XSS) could read the refresh token, so the
 * app ships no third-party scripts and the server rotates refresh tokens and revokes
 * the whole session when an old one is replayed. See web/README.md.
 */
export function createTokenStore(storage: KeyValueStorage | null): TokenStore & { sessionId(): string | null } {
  let access: string | null = null;
  let session: string | null = null;
  let fallbackRefresh: string | null = null;
  const read = () => (storage ? safe(() => storage.getItem(REFRESH_KEY), null) : fallbackRefresh);
  return {
    getAccess: () => access,
    getRefresh: read,
    sessionId: () => session,
    save(tokens: Tokens) {
      access = tokens.access_token;
      session = tokens.session_id;
      if (storage) safe(() => storage.setItem(REFRESH_KEY, tokens.refresh_token), undefined);
      else fallbackRefresh = tokens.refresh_token;
    },
    clear() {
      access = null;
      session = null;
      fallbackRefresh = null;
      if (storage) safe(() => storage.removeItem(REFRESH_KEY), undefined);
    },
  };
}

function safe<T>(action: () => T, fallback: T): T {
  try {
    return action();
  } catch {
    return fallback;
  }
}
