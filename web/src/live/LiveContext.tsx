import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from "react";
import { useAuth } from "../auth/AuthContext";
import { LiveClient, type LiveListener } from "./LiveClient";
import { createPoller } from "./poller";
import { alertLabel, alertText } from "../lib/alertLabels";
import { reconnects, trackReconnect } from "../lib/reconnect";
import { socketUrl, type LiveStatus, type ServerMessage } from "./wsMachine";

export interface LiveAlert {
  key: string;
  level: "info" | "warning" | "critical";
  /** The code's label ("Emergency stop"), when the message does not already say it. */
  title: string | null;
  message: string;
  ts: string;
  botId: string | null;
}

interface LiveContextValue {
  status: LiveStatus;
  subscribe: (listener: LiveListener) => () => void;
  alerts: LiveAlert[];
  dismissAlerts: () => void;
}

const LiveContext = createContext<LiveContextValue | null>(null);
const MAX_ALERTS = 20;

/** Alerts worth showing on the dashboard, from typed messages. */
function toAlert(m: ServerMessage, n: number): LiveAlert | null {
  const d = m.data;
  const botId = typeof d.bot_id === "string" ? d.bot_id : null;
  const key = `${m.type}-${m.seq ?? "x"}-${n}`;
  const ts = m.ts || new Date().toISOString();
  if (m.type === "alert") {
    const title = typeof d.code === "string" && d.code ? alertLabel(d.code) : null;
    const message = alertText(d.message, d.code);
    return { key, level: (d.level as LiveAlert["level"]) ?? "info", title: title && !message.toLowerCase().startsWith(title.toLowerCase()) ? title : null, message, ts, botId };
  }
  if (m.type === "risk") return { key, level: d.outcome === "breaker_tripped" ? "critical" : "warning", title: typeof d.rule === "string" ? alertLabel(d.rule) : null, message: alertText(d.message, d.rule, d.outcome), ts, botId };
  if (m.type === "bot_status" && ["halted", "errored", "quarantined"].includes(String(d.status)))
    return { key, level: "critical", title: null, message: `A bot was ${String(d.status)}${d.reason ? `: ${String(d.reason)}` : "."}`, ts, botId };
  return null;
}

export function LiveProvider({ children }: { children: ReactNode }) {
  const { api, accessToken, refreshSession, endSession } = useAuth();
  const [status, setStatus] = useState<LiveStatus>("connecting");
  const [alerts, setAlerts] = useState<LiveAlert[]>([]);
  const counter = useRef(0);
  const auth = useRef({ accessToken, refreshSession, endSession });
  auth.current = { accessToken, refreshSession, endSession };
  const client = useMemo(
    () =>
      new LiveClient({
        url: socketUrl(window.location),
        getToken: () => auth.current.accessToken(),
        refresh: () => auth.current.refreshSession(),
        onSessionEnded: () => auth.current.endSession(),
        poll: createPoller({
          fills: async () => (await api.trading.fills({ limit: 50 })).items,
          bots: () => api.bots.list(),
        }),
      }),
    [api],
  );
  useEffect(() => {
    let wasDown = false;
    const offStatus = client.onStatus((next) => {
      const step = trackReconnect(wasDown, next);
      wasDown = step.wasDown;
      setStatus(next);
      if (step.back) reconnects.notify();
    });
    const offAlerts = client.subscribe((m) => {
      const alert = toAlert(m, (counter.current += 1));
      if (alert) setAlerts((list) => [alert, ...list].slice(0, MAX_ALERTS));
    });
    client.start();
    setStatus(client.status);
    return () => {
      offStatus();
      offAlerts();
      client.stop();
    };
  }, [client]);
  const subscribe = useCallback((listener: LiveListener) => client.subscribe(listener), [client]);
  const dismissAlerts = useCallback(() => setAlerts([]), []);
  const value = useMemo<LiveContextValue>(() => ({ status, subscribe, alerts, dismissAlerts }), [status, subscribe, alerts, dismissAlerts]);
  return <LiveContext.Provider value={value}>{children}</LiveContext.Provider>;
}

export function useLive(): LiveContextValue {
  const value = useContext(LiveContext);
  if (value === null) throw new Error("useLive must be used inside <LiveProvider>");
  return value;
}

/**
 * Call `reload` (at most once per `throttleMs`) when a message of one of `types` arrives
 * (for `botId` only, when given), and on every "refetch" (a resume gap).
 */
export function useLiveReload(types: readonly string[], reload: () => void, botId?: string, throttleMs = 1000): void {
  const { subscribe } = useLive();
  const latest = useRef(reload);
  latest.current = reload;
  const key = types.join(",");
  useEffect(() => {
    const wanted = new Set(key.split(","));
    let timer: ReturnType<typeof setTimeout> | null = null;
    let last = 0;
    const fire = () => {
      last = Date.now();
      timer = null;
      latest.current();
    };
    const off = subscribe((m) => {
      if (m.type !== "refetch" && !wanted.has(m.type)) return;
      if (botId && m.type !== "refetch" && typeof m.data.bot_id === "string" && m.data.bot_id !== botId) return;
      if (timer) return;
      const wait = Math.max(0, last + throttleMs - Date.now());
      timer = setTimeout(fire, wait);
    });
    return () => {
      off();
      if (timer) clearTimeout(timer);
    };
  }, [subscribe, key, botId, throttleMs]);
}

const LABELS: Record<LiveStatus, string> = {
  connecting: "Connecting…",
  live: "Live",
  reconnecting: "Reconnecting…",
  polling: "Live (polling)",
  offline: "Offline",
  ended: "Signed out",
};

const TITLES: Record<LiveStatus, string> = {
  connecting: "Opening the real-time connection",
  live: "Real-time updates over WebSocket",
  reconnecting: "The connection dropped; reconnecting and resuming where it left off. Updates are polled meanwhile.",
  polling: "Real-time socket unavailable: checking for updates every few seconds",
  offline: "No network: updates resume when you are back online",
  ended: "The session ended (signed out, revoked or deactivated): sign in again",
};

export function LiveIndicator() {
  const { status } = useLive();
  return (
    <span className={`live-indicator live-${status}`} role="status" aria-live="polite" title={TITLES[status]} data-testid="live-status">
      <span className="live-dot" aria-hidden="true" />
      {LABELS[status]}
    </span>
  );
}
