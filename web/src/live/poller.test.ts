import { describe, expect, it } from "vitest";
import type { Bot, Fill } from "../api/types";
import { createPoller } from "./poller";

const fill = (id: string): Fill => ({ id, order_id: "o", bot_id: "b1", ts: "2026-01-01T00:00:00Z", symbol: "BTC/ZAR", side: "buy", price: "1", qty: "1", fee: "0" });
const bot = (status: Bot["status"]) => ({ id: "b1", status, status_reason: null, updated_at: "t" }) as Bot;

describe("REST poller", () => {
  it("announces only new fills and status changes after the first call", async () => {
    let fills = [fill("a")];
    let bots = [bot("running")];
    const poll = createPoller({ fills: async () => fills, bots: async () => bots });
    expect(await poll()).toEqual([]);
    fills = [fill("c"), fill("b"), fill("a")];
    bots = [bot("halted")];
    const out = await poll();
    expect(out.map((m) => `${m.type}:${String(m.data.id ?? m.data.status)}`)).toEqual(["fill:b", "fill:c", "bot_status:halted"]);
    expect(await poll()).toEqual([]);
  });
});
