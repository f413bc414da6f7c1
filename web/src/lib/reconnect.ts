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

const DOWN: ReadonlySet<LiveStatus> = new Set(["reconnecting", "offline", "polling"]);

/**
 * Follow the live feed's statuses: `back` is true on the first "live" after the feed was
 * down (reconnecting, offline or polling), whatever came in between (e.g. "connecting").
 */
export function trackReconnect(wasDown: boolean, next: LiveStatus): { wasDown: boolean; back: boolean } {
  if (next === "live") return { wasDown: false, back: wasDown };
  return { wasDown: wasDown || DOWN.has(next), back: false };
}
