import { describe, expect, it, vi } from "vitest";
import { createReconnectBus, isReconnect } from "./reconnect";

describe("isReconnect", () => {
  it("is a reconnect only when the feed comes back after being down", () => {
    expect(isReconnect("reconnecting", "live")).toBe(true);
    expect(isReconnect("offline", "live")).toBe(true);
    expect(isReconnect("polling", "live")).toBe(true);
    expect(isReconnect("connecting", "live")).toBe(false);
    expect(isReconnect(null, "live")).toBe(false);
    expect(isReconnect("live", "live")).toBe(false);
    expect(isReconnect("live", "reconnecting")).toBe(false);
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
