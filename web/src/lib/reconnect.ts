/**
 * "The connection is back": the live feed reconnected after being down (or the browser came
 * back online). Panels that failed while the server was unreachable load again on it
 * (lib/useResource.ts), so nobody has to press "Try again" on each one.
 */
import type { LiveStatus } from "../live/wsMachine";

type Listener = () => void;

export function createReconnectBus() {
  const listeners = new Set<Listener>();
  return {
    subscribe(listener: Listener): () => void {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    notify(): void {
      for (const listener of [...listeners]) listener();
    },
  };
}

export const reconnects = createReconnectBus();

/** Whether a live-feed status change means the server is reachable again after an outage. */
export function isReconnect(previous: LiveStatus | null, next: LiveStatus): boolean {
  if (previous === null || previous === next) return false;
  const down = previous === "reconnecting" || previous === "offline" || previous === "polling";
  return down && next === "live";
}
