import { describe, expect, it } from "vitest";
import { backoffDelay, initialState, parseMessage, socketUrl, transition, type MachineState, type ServerMessage } from "./wsMachine";

const msg = (type: string, seq: number | null, data: Record<string, unknown> = {}): ServerMessage => ({ v: 1, type, seq, ts: "", data });
const fixed = { random: () => 0.5 };

function run(state: MachineState, ...events: Parameters<typeof transition>[1][]) {
  const effects = [];
  for (const event of events) {
    const out = transition(state, event, fixed);
    state = out.state;
    effects.push(...out.effects);
  }
  return { state, effects };
}

describe("backoff", () => {
  it("doubles up to the cap, with jitter between half and all", () => {
    expect([0, 1, 2, 3].map((a) => backoffDelay(a, { random: () => 1 }))).toEqual([1000, 2000, 4000, 8000]);
    expect(backoffDelay(10, { random: () => 1 })).toBe(30000);
    expect(backoffDelay(10, { random: () => 0 })).toBe(15000);
    expect(backoffDelay(2, { random: () => 0.5 })).toBe(3000);
  });
});

describe("ws state machine", () => {
  it("authenticates with last_seq on open and goes live on resume", () => {
    const { state, effects } = run(initialState(7), { type: "connect" }, { type: "open" }, { type: "message", message: msg("resume", null, { gap: false, from_seq: 8, head_seq: 9 }) });
    expect(effects).toEqual([{ type: "openSocket" }, { type: "sendAuth", lastSeq: 7 }]);
    expect(state.status).toBe("live");
    expect(state.lastSeq).toBe(7);
  });

  it("a first connection starts at the stream head", () => {
    const { state } = run(initialState(), { type: "connect" }, { type: "open" }, { type: "message", message: msg("resume", null, { gap: false, from_seq: 43, head_seq: 42 }) });
    expect(state.lastSeq).toBe(42);
  });

  it("delivers durable messages once, in seq order, and tracks the highest seq", () => {
    const start = run(initialState(5), { type: "message", message: msg("resume", null, { gap: false, head_seq: 5 }) }).state;
    const { state, effects } = run(start,
      { type: "message", message: msg("fill", 6) },
      { type: "message", message: msg("fill", 6) },
      { type: "message", message: msg("heartbeat", null) },
      { type: "message", message: msg("price", null) },
      { type: "message", message: msg("order", 7) },
    );
    expect(effects.map((e) => (e.type === "deliver" ? `${e.message.type}:${e.message.seq}` : e.type))).toEqual(["fill:6", "price:null", "order:7"]);
    expect(state.lastSeq).toBe(7);
  });

  it("reconnects with exponential backoff and resumes from last_seq", () => {
    let { state } = run(initialState(3), { type: "message", message: msg("resume", null, { gap: false, head_seq: 3 }) });
    const first = transition(state, { type: "close", code: 1006 }, fixed);
    expect(first.state.status).toBe("reconnecting");
    expect(first.effects).toEqual([{ type: "scheduleReconnect", delayMs: 750 }]);
    const second = transition(first.state, { type: "close", code: 1006 }, fixed);
    expect(second.effects).toEqual([{ type: "scheduleReconnect", delayMs: 1500 }]);
    state = run(second.state, { type: "connect" }, { type: "open" }).state;
    expect(run(second.state, { type: "connect" }, { type: "open" }).effects).toContainEqual({ type: "sendAuth", lastSeq: 3 });
    state = run(state, { type: "message", message: msg("resume", null, { gap: false, head_seq: 9 }) }).state;
    expect(state).toMatchObject({ status: "live", attempt: 0, lastSeq: 3 });
  });

  it("asks for a REST refetch on a gap and continues from the oldest retained seq", () => {
    const { state, effects } = run(initialState(2), { type: "message", message: msg("resume", null, { gap: true, from_seq: 50, head_seq: 60 }) });
    expect(effects).toEqual([{ type: "refetch", reason: "gap" }]);
    expect(state.lastSeq).toBe(49);
  });

  it("falls back to polling when the socket never comes up", () => {
    const { state } = run(initialState(), { type: "connect" }, { type: "close", code: 1006 }, { type: "connect" }, { type: "close", code: 1006 });
    expect(state.status).toBe("polling");
    expect(state.attempt).toBe(2);
  });

  it("refreshes the token on 4401, restarts on 4409 and comes straight back on 4008", () => {
    expect(transition(initialState(1), { type: "close", code: 4401 }, fixed).effects).toEqual([{ type: "refreshToken" }, { type: "scheduleReconnect", delayMs: 750 }]);
    const ahead = transition(initialState(99), { type: "close", code: 4409 }, fixed);
    expect(ahead.state.lastSeq).toBeNull();
    expect(ahead.effects).toEqual([{ type: "refetch", reason: "seq_ahead" }, { type: "scheduleReconnect", delayMs: 0 }]);
    expect(transition(initialState(1), { type: "close", code: 4008 }, fixed).effects).toEqual([{ type: "scheduleReconnect", delayMs: 0 }]);
  });

  it("goes offline with the network and reconnects at once when it returns", () => {
    let { state, effects } = run(initialState(4), { type: "offline" }, { type: "close", code: 1006 });
    expect(state.status).toBe("offline");
    expect(effects).toEqual([{ type: "closeSocket" }]);
    ({ state, effects } = run(state, { type: "online" }));
    expect(effects).toEqual([{ type: "scheduleReconnect", delayMs: 0 }]);
    expect(state.attempt).toBe(0);
  });

  it("a revoked session (4403) ends the connection: no reconnect, the person signs in again", () => {
    const live = run(initialState(3), { type: "message", message: msg("resume", null, { gap: false, head_seq: 3 }) }).state;
    const out = transition(live, { type: "close", code: 4403, reason: "logged out" }, fixed);
    expect(out.state.status).toBe("ended");
    expect(out.effects).toEqual([{ type: "sessionEnded", reason: "logged out" }]);
    expect(run(out.state, { type: "connect" }, { type: "online" }, { type: "close", code: 1006 }).effects).toEqual([]);
  });

  it("an expired token (4401 on a live socket) refreshes and resumes at once from last_seq", () => {
    const live = run(initialState(3), { type: "message", message: msg("resume", null, { gap: false, head_seq: 3 }) }, { type: "message", message: msg("fill", 4) }).state;
    const out = transition(live, { type: "close", code: 4401, reason: "token expired" }, fixed);
    expect(out.effects).toEqual([{ type: "refreshToken" }, { type: "scheduleReconnect", delayMs: 0 }]);
    expect(run(out.state, { type: "connect" }, { type: "open" }).effects).toContainEqual({ type: "sendAuth", lastSeq: 4 });
  });

  it("schedules in-band re-authentication from the token's expiry", () => {
    const resume = msg("resume", null, { gap: false, head_seq: 0, expires_at: "2026-01-01T00:15:00Z" });
    expect(run(initialState(), { type: "message", message: resume }).effects).toEqual([{ type: "scheduleReauth", expiresAt: "2026-01-01T00:15:00Z" }]);
    const again = transition(initialState(), { type: "message", message: msg("authenticated", null, { expires_at: "2026-01-01T00:30:00Z" }) }, fixed);
    expect(again.effects).toEqual([{ type: "scheduleReauth", expiresAt: "2026-01-01T00:30:00Z" }]);
  });

  it("a 1009 (message too big) reconnects with backoff like any drop", () => {
    const live = run(initialState(3), { type: "message", message: msg("resume", null, { gap: false, head_seq: 3 }) }).state;
    expect(transition(live, { type: "close", code: 1009 }, fixed).effects).toEqual([{ type: "scheduleReconnect", delayMs: 750 }]);
  });

  it("parses frames and builds the socket URL", () => {
    expect(parseMessage('{"v":1,"type":"fill","seq":3,"ts":"t","data":{"id":"x"}}')).toEqual({ v: 1, type: "fill", seq: 3, ts: "t", data: { id: "x" } });
    expect(parseMessage("nope")).toBeNull();
    expect(parseMessage('{"seq":1}')).toBeNull();
    expect(socketUrl({ protocol: "https:", host: "a.example" })).toBe("wss://a.example/api/v1/ws");
    expect(socketUrl({ protocol: "http:", host: "127.0.0.1:8001" })).toBe("ws://127.0.0.1:8001/api/v1/ws");
  });
});
