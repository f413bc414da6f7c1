/**
 * The real-time connection as a pure state machine (the browser driver is LiveClient.ts).
 *
 * Protocol (GET /api/v1/ws/schema): connect, send {"type":"auth","token","last_seq"},
 * get one `resume` {gap, from_seq, head_seq}, then every durable message (per-user `seq`)
 * after last_seq in order, then the live feed. Keep the highest seq and resume from it.
 * While the socket is not live the app polls REST, so nothing is missed either way.
 *
 * The socket lives only as long as the session: 4403 (logged out, session revoked, account
 * deactivated …) means sign in again, never reconnect; 4401 "token expired" means refresh the
 * token and reconnect with last_seq at once. Before the token expires (`expires_at` in
 * `resume` / `authenticated`) the client re-authenticates in band with a fresh token, so a
 * healthy session never sees the 4401 at all.
 */

export type LiveStatus = "connecting" | "live" | "reconnecting" | "polling" | "offline" | "ended";

export interface ServerMessage {
  v?: number;
  type: string;
  seq: number | null;
  ts?: string;
  data: Record<string, unknown>;
}

export interface MachineState {
  status: LiveStatus;
  /** highest durable seq delivered; sent as last_seq on reconnect */
  lastSeq: number | null;
  /** consecutive failed attempts since the last live connection (drives backoff) */
  attempt: number;
  /** this socket got its `resume` (authenticated and replaying/live) */
  resumed: boolean;
  /** the socket was live at least once in this page's life */
  everLive: boolean;
}

export type MachineEvent =
  | { type: "connect" }
  | { type: "open" }
  | { type: "message"; message: ServerMessage }
  | { type: "close"; code: number; reason?: string }
  | { type: "offline" }
  | { type: "online" };

export type Effect =
  | { type: "openSocket" }
  | { type: "sendAuth"; lastSeq: number | null }
  | { type: "deliver"; message: ServerMessage }
  | { type: "refetch"; reason: string }
  | { type: "scheduleReconnect"; delayMs: number }
  | { type: "refreshToken" }
  /** send a fresh token on the open socket shortly before `expiresAt` */
  | { type: "scheduleReauth"; expiresAt: string }
  /** the server ended the session (4403): stop, and send the person to sign in */
  | { type: "sessionEnded"; reason: string }
  | { type: "closeSocket" };

export const CLOSE_TOO_BIG = 1009;
export const CLOSE_UNAUTHORIZED = 4401;
export const CLOSE_REVOKED = 4403;
export const CLOSE_SEQ_AHEAD = 4409;
export const CLOSE_SLOW_CONSUMER = 4008;
export const CLOSE_PROTOCOL = 4400;

/** Before the first live connection, this many failures in a row mean "polling" rather than "reconnecting". */
export const FAILURES_BEFORE_POLLING = 2;

export interface BackoffOptions {
  baseMs?: number;
  maxMs?: number;
  /** 0..1; a random number source, so tests can pin it */
  random?: () => number;
}

/** Exponential backoff with "equal jitter": between half and all of min(max, base·2^attempt). */
export function backoffDelay(attempt: number, { baseMs = 1000, maxMs = 30_000, random = Math.random }: BackoffOptions = {}): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt));
  return Math.round(ceiling / 2 + (ceiling / 2) * random());
}

export function initialState(lastSeq: number | null = null): MachineState {
  return { status: "connecting", lastSeq, attempt: 0, resumed: false, everLive: false };
}

export function transition(state: MachineState, event: MachineEvent, backoff: BackoffOptions = {}): { state: MachineState; effects: Effect[] } {
  switch (event.type) {
    case "connect":
      if (state.status === "ended") return { state, effects: [] };
      return {
        state: { ...state, resumed: false, status: state.status === "offline" ? "offline" : state.attempt === 0 && !state.everLive ? "connecting" : state.status },
        effects: [{ type: "openSocket" }],
      };
    case "open":
      return { state, effects: [{ type: "sendAuth", lastSeq: state.lastSeq }] };
    case "message":
      return onMessage(state, event.message);
    case "close":
      return onClose(state, event.code, event.reason ?? "", backoff);
    case "offline":
      return { state: { ...state, status: "offline", resumed: false }, effects: [{ type: "closeSocket" }] };
    case "online":
      if (state.status === "ended") return { state, effects: [] };
      return { state: { ...state, status: state.everLive ? "reconnecting" : "connecting", attempt: 0 }, effects: [{ type: "scheduleReconnect", delayMs: 0 }] };
  }
}

function onMessage(state: MachineState, message: ServerMessage): { state: MachineState; effects: Effect[] } {
  if (message.type === "resume") {
    const effects: Effect[] = [];
    const gap = message.data.gap === true;
    // We missed messages (trimmed from the stream): REST is the truth.
    if (gap) effects.push({ type: "refetch", reason: "gap" });
    const head = typeof message.data.head_seq === "number" ? message.data.head_seq : null;
    // A first connection (no last_seq) starts at the head: later messages are new.
    const lastSeq = state.lastSeq === null ? head : gap ? Math.max(0, Number(message.data.from_seq ?? 1) - 1) : state.lastSeq;
    if (typeof message.data.expires_at === "string") effects.push({ type: "scheduleReauth", expiresAt: message.data.expires_at });
    return { state: { ...state, status: "live", attempt: 0, resumed: true, everLive: true, lastSeq }, effects };
  }
  if (message.type === "authenticated") {
    const expiresAt = message.data.expires_at;
    return { state, effects: typeof expiresAt === "string" ? [{ type: "scheduleReauth", expiresAt }] : [] };
  }
  if (message.type === "heartbeat" || message.type === "pong") return { state, effects: [] };
  if (message.seq !== null && message.seq !== undefined) {
    if (state.lastSeq !== null && message.seq <= state.lastSeq) return { state, effects: [] }; // duplicate from a replay overlap
    return { state: { ...state, lastSeq: message.seq }, effects: [{ type: "deliver", message }] };
  }
  return { state, effects: [{ type: "deliver", message }] };
}

function onClose(state: MachineState, code: number, reason: string, backoff: BackoffOptions): { state: MachineState; effects: Effect[] } {
  if (state.status === "offline" || state.status === "ended") return { state: { ...state, resumed: false }, effects: [] };
  // The session is over (logout, revocation, deactivation): reconnecting cannot help.
  if (code === CLOSE_REVOKED) return { state: { ...state, status: "ended", resumed: false }, effects: [{ type: "sessionEnded", reason: reason || "session ended" }] };
  const effects: Effect[] = [];
  let lastSeq = state.lastSeq;
  if (code === CLOSE_UNAUTHORIZED) effects.push({ type: "refreshToken" });
  if (code === CLOSE_SEQ_AHEAD) {
    // The server's stream is behind our cursor (it was reset): start over from REST.
    lastSeq = null;
    effects.push({ type: "refetch", reason: "seq_ahead" });
  }
  const attempt = state.attempt + 1;
  const status: LiveStatus = state.everLive ? "reconnecting" : attempt >= FAILURES_BEFORE_POLLING ? "polling" : "reconnecting";
  // A slow-consumer close is the server asking us to come straight back and resume; so is
  // a 4401 on a socket that was authenticated (its token expired): the reconnect waits for
  // the refresh and resumes from last_seq.
  const expired = code === CLOSE_UNAUTHORIZED && state.resumed;
  const delayMs = code === CLOSE_SLOW_CONSUMER || code === CLOSE_SEQ_AHEAD || expired ? 0 : backoffDelay(state.attempt, backoff);
  effects.push({ type: "scheduleReconnect", delayMs });
  return { state: { ...state, status, attempt, lastSeq, resumed: false }, effects };
}

/** Parse one frame; anything that is not a typed message is ignored (null). */
export function parseMessage(text: unknown): ServerMessage | null {
  if (typeof text !== "string") return null;
  try {
    const value = JSON.parse(text) as unknown;
    if (typeof value !== "object" || value === null) return null;
    const m = value as Partial<ServerMessage>;
    if (typeof m.type !== "string") return null;
    return { v: m.v ?? 1, type: m.type, seq: typeof m.seq === "number" ? m.seq : null, ts: m.ts ?? "", data: (m.data ?? {}) as Record<string, unknown> };
  } catch {
    return null;
  }
}

/** ws(s)://host/api/v1/ws for the page's origin; the token goes in the first message, not the URL. */
export function socketUrl(location: { protocol: string; host: string }): string {
  return `${location.protocol === "https:" ? "wss:" : "ws:"}//${location.host}/api/v1/ws`;
}
