import { describe, expect, it, vi } from "vitest";
import { createReconnectBus, trackReconnect } from "./reconnect";

describe("trackReconnect", () => {
  const run = (...statuses: Parameters<typeof trackReconnect>[1][]) => {
    let wasDown = false;
    const backs: boolean[] = [];
    for (const s of statuses) {
      const r = trackReconnect(wasDown, s);
      wasDown = r.wasDown;
      backs.push(r.back);
    }
    return backs;
  };
  it("fires on the first live after the feed was down, even through connecting", () => {
    expect(run("connecting", "live")).toEqual([false, false]);
    expect(run("connecting", "live", "reconnecting", "live")).toEqual([false, false, false, true]);
    expect(run("live", "offline", "connecting", "live", "live")).toEqual([false, false, false, true, false]);
    expect(run("connecting", "polling", "live")).toEqual([false, false, true]);
  });
});

describe("reconnect bus", () => {
  it("tells every subscriber once per reconnect, until it unsubscribes", () => {
    const bus = createReconnectBus();
    const a = vi.fn();
    const b = vi.fn();
    const offA = bus.subscribe(a);
    bus.subscribe(b);
    bus.notify();
    offA();
    bus.notify();
    expect(a).toHaveBeenCalledTimes(1);
    expect(b).toHaveBeenCalledTimes(2);
  });
});
