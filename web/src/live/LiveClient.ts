import { initialState, parseMessage, transition, type Effect, type LiveStatus, type MachineEvent, type MachineState, type ServerMessage } from "./wsMachine";

export type LiveListener = (message: ServerMessage) => void;

export interface LiveClientOptions {
  url: string;
  getToken: () => string | null;
  refresh: () => Promise<boolean>;
  /** REST fallback: new events since the previous call (the first call only primes). */
  poll: () => Promise<ServerMessage[]>;
  pollMs?: number;
  createSocket?: (url: string) => WebSocket;
  /** The server closed the socket because the session ended (4403): sign the person out. */
  onSessionEnded?: (reason: string) => void;
  /** Re-authenticate this long before the access token expires (default 60 s, at most half its life). */
  reauthLeadMs?: number;
}

/**
 * Drives wsMachine with a real WebSocket, timers and the browser's online/offline
 * events. While the socket is not live, `poll` runs every few seconds instead, so
 * screens see new fills whether or not the WebSocket is available.
 */
export class LiveClient {
  private state: MachineState = initialState();
  private socket: WebSocket | null = null;
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private pollTimer: ReturnType<typeof setInterval> | null = null;
  private polling = false;
  private stopped = true;
  private readonly listeners = new Set<LiveListener>();
  private readonly statusListeners = new Set<(status: LiveStatus) => void>();
  private reauthTimer: ReturnType<typeof setTimeout> | null = null;
  /** an in-flight token refresh: a (re)connecting socket waits for it before `auth` */
  private refreshing: Promise<boolean> | null = null;
  private readonly options: Required<Omit<LiveClientOptions, "createSocket">> & Pick<LiveClientOptions, "createSocket">;

  constructor(options: LiveClientOptions) {
    this.options = { pollMs: 3000, onSessionEnded: () => undefined, reauthLeadMs: 60_000, ...options };
  }

  get status(): LiveStatus {
    return this.state.status;
  }

  get lastSeq(): number | null {
    return this.state.lastSeq;
  }

  subscribe(listener: LiveListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  onStatus(listener: (status: LiveStatus) => void): () => void {
    this.statusListeners.add(listener);
    return () => this.statusListeners.delete(listener);
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    window.addEventListener("online", this.handleOnline);
    window.addEventListener("offline", this.handleOffline);
    this.pollTimer = setInterval(() => void this.pollOnce(), this.options.pollMs);
    void this.pollOnce();
    if (typeof navigator !== "undefined" && navigator.onLine === false) this.dispatch({ type: "offline" });
    else this.dispatch({ type: "connect" });
  }

  stop(): void {
    this.stopped = true;
    window.removeEventListener("online", this.handleOnline);
    window.removeEventListener("offline", this.handleOffline);
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    if (this.pollTimer) clearInterval(this.pollTimer);
    this.clearReauth();
    this.reconnectTimer = null;
    this.pollTimer = null;
    this.closeSocket();
  }

  private readonly handleOnline = () => this.dispatch({ type: "online" });
  private readonly handleOffline = () => this.dispatch({ type: "offline" });

  private dispatch(event: MachineEvent): void {
    if (this.stopped) return;
    const before = this.state.status;
    const { state, effects } = transition(this.state, event);
    this.state = state;
    if (state.status !== before) for (const listener of this.statusListeners) listener(state.status);
    for (const effect of effects) this.run(effect);
  }

  private run(effect: Effect): void {
    switch (effect.type) {
      case "openSocket":
        this.openSocket();
        break;
      case "sendAuth":
        void this.sendAuth(effect.lastSeq);
        break;
      case "deliver":
        this.emit(effect.message);
        break;
      case "refetch":
        this.emit({ type: "refetch", seq: null, data: { reason: effect.reason } });
        break;
      case "scheduleReconnect":
        if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
        this.reconnectTimer = setTimeout(() => {
          this.reconnectTimer = null;
          this.dispatch({ type: "connect" });
        }, effect.delayMs);
        break;
      case "refreshToken":
        void this.refresh();
        break;
      case "scheduleReauth":
        this.scheduleReauth(effect.expiresAt);
        break;
      case "sessionEnded":
        this.clearReauth();
        if (this.pollTimer) clearInterval(this.pollTimer);
        this.pollTimer = null;
        this.options.onSessionEnded(effect.reason);
        break;
      case "closeSocket":
        this.closeSocket();
        break;
    }
  }

  private emit(message: ServerMessage): void {
    for (const listener of this.listeners) {
      try {
        listener(message);
      } catch (error) {
        console.error("live listener failed", error);
      }
    }
  }

  private openSocket(): void {
    this.closeSocket();
    let socket: WebSocket;
    try {
      socket = this.options.createSocket ? this.options.createSocket(this.options.url) : new WebSocket(this.options.url);
    } catch {
      this.dispatch({ type: "close", code: 1006 });
      return;
    }
    this.socket = socket;
    socket.onopen = () => socket === this.socket && this.dispatch({ type: "open" });
    socket.onmessage = (event: MessageEvent) => {
      if (socket !== this.socket) return;
      const message = parseMessage(event.data);
      if (message) this.dispatch({ type: "message", message });
    };
    socket.onclose = (event: CloseEvent) => {
      if (socket !== this.socket) return;
      this.socket = null;
      this.clearReauth();
      this.dispatch({ type: "close", code: event.code, reason: event.reason });
    };
  }

  private refresh(): Promise<boolean> {
    if (this.refreshing === null) {
      this.refreshing = this.options.refresh().finally(() => {
        this.refreshing = null;
      });
    }
    return this.refreshing;
  }

  private clearReauth(): void {
    if (this.reauthTimer) clearTimeout(this.reauthTimer);
    this.reauthTimer = null;
  }

  /** Shortly before the token expires, refresh it and hand the fresh one to the open socket
   * (in-band `auth`): the socket stays open with its cursor; no reconnect, no replay. */
  private scheduleReauth(expiresAt: string): void {
    this.clearReauth();
    const left = Date.parse(expiresAt) - Date.now();
    if (Number.isNaN(left)) return;
    const delay = Math.max(0, left - Math.min(this.options.reauthLeadMs, left / 2));
    this.reauthTimer = setTimeout(() => {
      this.reauthTimer = null;
      void this.reauthenticate();
    }, delay);
  }

  private async reauthenticate(): Promise<void> {
    const socket = this.socket;
    if (socket === null || !(await this.refresh())) return; // the 4401 at expiry reconnects
    const token = this.options.getToken();
    if (token === null || socket !== this.socket || socket.readyState !== WebSocket.OPEN) return;
    socket.send(JSON.stringify({ type: "auth", token }));
  }

  private async sendAuth(lastSeq: number | null): Promise<void> {
    const socket = this.socket;
    if (this.refreshing !== null) await this.refreshing;
    let token = this.options.getToken();
    if (token === null && (await this.refresh())) token = this.options.getToken();
    if (socket === null || socket !== this.socket || socket.readyState !== WebSocket.OPEN) return;
    if (token === null) {
      socket.close();
      return;
    }
    socket.send(JSON.stringify(lastSeq === null ? { type: "auth", token } : { type: "auth", token, last_seq: lastSeq }));
  }

  private closeSocket(): void {
    const socket = this.socket;
    this.socket = null;
    if (socket) {
      socket.onopen = socket.onmessage = socket.onclose = null;
      try {
        socket.close();
      } catch {
        // already closed
      }
    }
  }

  private async pollOnce(): Promise<void> {
    if (this.stopped || this.polling || this.state.status === "live") return;
    if (typeof navigator !== "undefined" && navigator.onLine === false) return;
    this.polling = true;
    try {
      for (const message of await this.options.poll()) this.emit(message);
    } catch {
      // the next tick tries again; screens show their own errors
    } finally {
      this.polling = false;
    }
  }
}
