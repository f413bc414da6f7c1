import type { Bot, Fill } from "../api/types";
import type { ServerMessage } from "./wsMachine";

/**
 * The REST fallback for the live feed: turns new fills and bot status changes into the
 * same typed messages the WebSocket sends (with seq null). The first call only learns
 * what already exists, so nothing old is announced as new.
 */
export function createPoller(load: { fills: () => Promise<Fill[]>; bots: () => Promise<Bot[]> }): () => Promise<ServerMessage[]> {
  let primed = false;
  const seenFills = new Set<string>();
  const botStatus = new Map<string, string>();
  return async () => {
    const [fills, bots] = await Promise.all([load.fills(), load.bots()]);
    const out: ServerMessage[] = [];
    for (const fill of [...fills].reverse()) {
      if (seenFills.has(fill.id)) continue;
      seenFills.add(fill.id);
      if (primed) out.push({ type: "fill", seq: null, ts: fill.ts, data: { ...fill } });
    }
    for (const bot of bots) {
      const before = botStatus.get(bot.id);
      botStatus.set(bot.id, bot.status);
      if (primed && before !== bot.status)
        out.push({ type: "bot_status", seq: null, ts: bot.updated_at, data: { bot_id: bot.id, status: bot.status, reason: bot.status_reason } });
    }
    primed = true;
    return out;
  };
}
