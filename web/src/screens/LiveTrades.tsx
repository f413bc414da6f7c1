import { useCallback, useEffect, useRef, useState, type ReactNode } from "react";
import type { Bot, Fill } from "../api/types";
import { useAuth } from "../auth/AuthContext";
import { Page, Panel } from "../components/Page";
import { EmptyState, ErrorNotice, Loading } from "../components/StateViews";
import { formatAmount, formatTime, formatZAR } from "../lib/format";
import { useResource } from "../lib/useResource";
import { useLiveReload } from "../live/LiveContext";
import { Link } from "../router/hashRouter";

export function LiveTrades() {
  const { api } = useAuth();
  const [data, reload] = useResource(
    useCallback(async () => {
      const [fills, bots] = await Promise.all([api.trading.fills({ limit: 50 }), api.bots.list()]);
      return { fills: fills.items, bots };
    }, [api]),
  );
  useLiveReload(["fill", "bot_status"], reload, undefined, 500);
  const bots = data.state === "ready" ? new Map(data.data.bots.map((b) => [b.id, b])) : new Map<string, Bot>();
  const isLive = (f: Fill) => f.bot_id !== null && bots.get(f.bot_id)?.mode === "live";
  const fills = data.state === "ready" ? data.data.fills : [];
  const liveBots = data.state === "ready" ? data.data.bots.filter((b) => b.mode === "live") : [];
  return (
    <Page title="Live trades" intro="Paper and live trading side by side, as fills arrive.">
      {data.state === "loading" && <Loading label="Loading trades…" />}
      {data.state === "error" && <ErrorNotice error={data.error} onRetry={reload} />}
      {data.state === "ready" && (
        <div className="split">
          <Panel title="Paper">
            <FillFeed fills={fills.filter((f) => !isLive(f))} bots={bots} empty={<EmptyState title="No paper trades yet" action={<Link to="/bots" className="btn btn-secondary">Start a paper bot</Link>}>Fills from paper bots stream here as they happen.</EmptyState>} testId="paper-fill" />
          </Panel>
          <Panel title="Live">
            {liveBots.length === 0 ? (
              <EmptyState title="No live accounts connected" action={<Link to="/settings" className="btn btn-secondary">Connect an exchange</Link>}>
                Live trading needs an exchange API key and a live bot. Fills from live bots will stream here next to your paper ones.
              </EmptyState>
            ) : (
              <FillFeed fills={fills.filter(isLive)} bots={bots} empty={<EmptyState title="No live trades yet">Your live bots have not traded yet.</EmptyState>} testId="live-fill" />
            )}
          </Panel>
        </div>
      )}
    </Page>
  );
}

function FillFeed({ fills, bots, empty, testId }: { fills: Fill[]; bots: Map<string, Bot>; empty: ReactNode; testId: string }) {
  // Rows that were not there on the previous render get a brief highlight.
  const seen = useRef<Set<string> | null>(null);
  const [fresh, setFresh] = useState<Set<string>>(new Set());
  useEffect(() => {
    const ids = new Set(fills.map((f) => f.id));
    if (seen.current !== null) {
      const added = [...ids].filter((id) => !seen.current!.has(id));
      if (added.length > 0) setFresh(new Set(added));
    }
    seen.current = ids;
  }, [fills]);
  if (fills.length === 0) return <>{empty}</>;
  return (
    <ol className="feed" aria-label="Fills, newest first" aria-live="polite">
      {fills.map((f) => {
        const bot = f.bot_id ? bots.get(f.bot_id) : undefined;
        const base = f.symbol.split("/")[0] ?? "";
        return (
          <li key={f.id} className={fresh.has(f.id) ? "feed-row fresh" : "feed-row"} data-testid={testId}>
            <span className={`side side-${f.side}`}>{f.side === "buy" ? "BUY" : "SELL"}</span>
            <span className="feed-main">
              <strong>{formatAmount(f.qty, base)}</strong> @ {formatZAR(f.price)}
              <span className="muted small"> {bot ? <Link to={`/bots/${bot.id}`}>{bot.name}</Link> : f.symbol} · fee {formatZAR(f.fee)}</span>
            </span>
            <time className="muted small nowrap" dateTime={f.ts}>{formatTime(f.ts)}</time>
          </li>
        );
      })}
    </ol>
  );
}
