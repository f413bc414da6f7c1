import { lazy, Suspense, useCallback, useMemo, useState, type FormEvent } from "react";
import { describeError } from "../../api/errors";
import type { Bot, Decision, Metrics } from "../../api/types";
import { useAuth } from "../../auth/AuthContext";
import { LineChart } from "../../components/charts/Svg";
import { Field } from "../../components/Field";
import { Page, Panel } from "../../components/Page";
import { EmptyState, ErrorNotice, InlineAlert, Loading } from "../../components/StateViews";
import { candlesToOhlc, equityToLine, fillsToLine, fillsToMarkers, indicatorLines } from "../../lib/chartData";
import { formatAmount, formatDateTime, formatNumber, formatPercent, formatSignedZAR, formatTime, formatZAR } from "../../lib/format";
import { parseAmount } from "../../lib/paramSchema";
import { useResource } from "../../lib/useResource";
import { useLiveReload } from "../../live/LiveContext";
import { Link } from "../../router/hashRouter";
import { BotActions, StatusBadge } from "./BotActions";
import { TableScroll } from "../../components/TableScroll";
import { RiskRuleFields } from "../../components/RiskRuleFields";
import { EXIT_RULES, mergeExits, rulesToForm, validateRules, type FormValues } from "../../lib/riskSettings";

/** The candle chart library (lightweight-charts) loads only on this screen: the other screens start faster. */
const PriceChart = lazy(() => import("../../components/charts/PriceChart").then((m) => ({ default: m.PriceChart })));

const OVERLAY_COLOURS = ["#ffc857", "#c792ea", "#7dd3ff", "#f78c6c"];

export function BotDetail({ id }: { id: string }) {
  const { api } = useAuth();
  const [bot, reloadBot] = useResource(useCallback(() => api.bots.get(id), [api, id]));
  useLiveReload(["bot_status", "fill", "order"], reloadBot, id);
  return (
    <Page title={bot.state === "ready" ? bot.data.name : "Bot"} intro={<Link to="/bots">← All bots</Link>}>
      {bot.state === "loading" && <Loading label="Loading bot…" />}
      {bot.state === "error" && <ErrorNotice error={bot.error} onRetry={reloadBot} />}
      {bot.state === "ready" && <BotBody bot={bot.data} reload={reloadBot} />}
    </Page>
  );
}

function BotBody({ bot, reload }: { bot: Bot; reload: () => void }) {
  const base = bot.symbol.split("/")[0] ?? "";
  return (
    <>
      <Panel title="Status">
        <p>
          <StatusBadge status={bot.status} /> {bot.strategy} on {bot.symbol} ({bot.exchange}), {bot.timeframe_s} s bars, {bot.mode === "live" ? "live" : "paper"}
        </p>
        {bot.status_reason && <InlineAlert kind="info">{bot.status_reason}</InlineAlert>}
        <dl className="stats">
          <div><dt>Equity</dt><dd data-testid="bot-equity">{formatZAR(bot.equity ?? NaN)}</dd></div>
          <div><dt>Cash</dt><dd>{formatZAR(bot.cash ?? NaN)}</dd></div>
          <div><dt>Position</dt><dd>{formatAmount(bot.position_qty ?? 0, base)}</dd></div>
          <div><dt>Last price</dt><dd>{formatZAR(bot.last_price ?? NaN)}</dd></div>
        </dl>
        <BotActions bot={bot} onChanged={reload} />
        <p className="muted small">Parameters: <code>{JSON.stringify(bot.params)}</code></p>
      </Panel>
      <ChartPanel bot={bot} />
      <div className="grid">
        <PerformancePanel bot={bot} />
        <AllocationPanel bot={bot} onChanged={reload} />
      </div>
      <ExitsPanel bot={bot} onChanged={reload} />
      <DecisionsPanel bot={bot} />
    </>
  );
}

/** Stop-loss, take-profit and trailing stop of the bot (PATCH /bots/{id} {risk}); the server refuses changes while it runs. */
function ExitsPanel({ bot, onChanged }: { bot: Bot; onChanged: () => void }) {
  const { api } = useAuth();
  const [values, setValues] = useState<FormValues>(() => rulesToForm(EXIT_RULES, bot.risk));
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<{ kind: "error" | "success"; text: string } | null>(null);
  const { errors, out } = validateRules(EXIT_RULES, values);
  const valid = Object.keys(errors).length === 0;
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!valid) return;
    setBusy(true);
    setMessage(null);
    try {
      const updated = await api.bots.update(bot.id, { risk: mergeExits(bot.risk ?? {}, out) });
      setValues(rulesToForm(EXIT_RULES, updated.risk));
      setMessage({ kind: "success", text: "Exits saved." });
      onChanged();
    } catch (err) {
      setMessage({ kind: "error", text: describeError(err) });
    } finally {
      setBusy(false);
    }
  };
  return (
    <Panel title="Exits" description="Close the position automatically. Percentages of the entry price; empty switches a rule off.">
      <form className="form" aria-label="Exits" onSubmit={(e) => void submit(e)} noValidate>
        {bot.status === "running" && <p className="muted small">Pause or stop the bot to change its exits.</p>}
        {message && <InlineAlert kind={message.kind}>{message.text}</InlineAlert>}
        <RiskRuleFields rules={EXIT_RULES} values={values} errors={errors} onChange={setValues} />
        <div className="button-row">
          <button type="submit" className="btn btn-primary" disabled={busy || !valid}>{busy ? "Saving…" : "Save exits"}</button>
        </div>
      </form>
    </Panel>
  );
}

function ChartPanel({ bot }: { bot: Bot }) {
  const { api } = useAuth();
  const [data, reload] = useResource(
    useCallback(async () => {
      const [candles, fills, decisions] = await Promise.all([
        api.markets.candles(bot.symbol, bot.exchange, bot.timeframe_s, 300).catch(() => []),
        api.trading.fills({ bot_id: bot.id, limit: 200 }),
        api.bots.decisions(bot.id, { limit: 200 }).catch(() => ({ items: [] as Decision[], next_cursor: null })),
      ]);
      return { candles: candlesToOhlc(candles), fills: fills.items, decisions: decisions.items };
    }, [api, bot.id, bot.symbol, bot.exchange, bot.timeframe_s]),
  );
  useLiveReload(["fill", "candle"], reload, bot.id, 3000);
  const chart = useMemo(() => {
    if (data.state !== "ready") return null;
    const { candles, fills, decisions } = data.data;
    const times = candles.map((c) => c.time);
    const overlays = Object.entries(indicatorLines(decisions)).map(([label, points], i) => ({ label, points, color: OVERLAY_COLOURS[i % OVERLAY_COLOURS.length]! }));
    return { candles, line: fillsToLine(fills), markers: fillsToMarkers(fills, bot.timeframe_s, times.length ? times : undefined), overlays, fills };
  }, [data, bot.timeframe_s]);
  return (
    <Panel title="Price and trades" description="Candles from the market, ▲ buys and ▼ sells of this bot, and the strategy's indicators.">
      {data.state === "loading" && <Loading label="Loading chart…" />}
      {data.state === "error" && <ErrorNotice error={data.error} onRetry={reload} />}
      {chart && chart.candles.length === 0 && chart.line.length === 0 && <EmptyState title="No prices yet">The chart fills in as the market produces bars.</EmptyState>}
      {chart && (chart.candles.length > 0 || chart.line.length > 0) && (
        <>
          <Suspense fallback={<div className="price-chart" style={{ height: 320 }} aria-hidden="true" />}>
            <PriceChart candles={chart.candles} line={chart.line} markers={chart.markers} overlays={chart.overlays} label={`${bot.symbol} price with ${chart.fills.length} trades`} />
          </Suspense>
          {chart.overlays.length > 0 && (
            <p className="legend">
              {chart.overlays.map((o) => (
                <span key={o.label}><span className="swatch" style={{ background: o.color }} aria-hidden="true" />{o.label}</span>
              ))}
            </p>
          )}
        </>
      )}
      {chart && <FillsTable fills={chart.fills.slice(0, 10)} base={bot.symbol.split("/")[0] ?? ""} />}
    </Panel>
  );
}

function FillsTable({ fills, base }: { fills: Array<{ id: string; ts: string; side: string; price: string; qty: string; fee: string }>; base: string }) {
  if (fills.length === 0) return <p className="muted">No trades yet.</p>;
  return (
    <TableScroll label="Latest trades">
      <table className="table">
        <caption className="sr-only">Latest trades</caption>
        <thead><tr><th>Time</th><th>Side</th><th className="num">Price</th><th className="num">Quantity</th><th className="num">Fee</th></tr></thead>
        <tbody>
          {fills.map((f) => (
            <tr key={f.id} data-testid="bot-fill-row">
              <td>{formatTime(f.ts)}</td>
              <td className={f.side === "buy" ? "success-text" : "danger-text"}>{f.side}</td>
              <td className="num">{formatZAR(f.price)}</td>
              <td className="num">{formatAmount(f.qty, base)}</td>
              <td className="num">{formatZAR(f.fee)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </TableScroll>
  );
}

function PerformancePanel({ bot }: { bot: Bot }) {
  const { api } = useAuth();
  const [data, reload] = useResource(
    useCallback(async () => {
      const [performance, equity] = await Promise.all([api.bots.performance(bot.id), api.bots.equity(bot.id, 200)]);
      return { performance, equity: equityToLine(equity.points).map((p) => p.value) };
    }, [api, bot.id]),
  );
  useLiveReload(["fill"], reload, bot.id, 5000);
  return (
    <Panel title="Performance">
      {data.state === "loading" && <Loading />}
      {data.state === "error" && <ErrorNotice error={data.error} onRetry={reload} />}
      {data.state === "ready" && (
        <>
          <dl className="stats">
            <div><dt>Net PnL</dt><dd className={Number(data.data.performance.net_pnl) >= 0 ? "success-text" : "danger-text"}>{formatSignedZAR(data.data.performance.net_pnl)}</dd></div>
            <div><dt>Realised</dt><dd>{formatSignedZAR(data.data.performance.realised_pnl)}</dd></div>
            <div><dt>Unrealised</dt><dd>{formatSignedZAR(data.data.performance.unrealised_pnl)}</dd></div>
            <div><dt>Fees</dt><dd>{formatZAR(data.data.performance.fees)}</dd></div>
            <div><dt>Return</dt><dd>{formatPercent(data.data.performance.metrics.total_return)}</dd></div>
            <div><dt>Max drawdown</dt><dd>{formatPercent(data.data.performance.metrics.max_drawdown)}</dd></div>
            <div><dt>Round trips</dt><dd title="closed round trips: a position opened and closed">{formatNumber(data.data.performance.metrics.n_trades ?? 0, 0)}{data.data.performance.n_fills != null && <span className="muted small"> · {formatNumber(data.data.performance.n_fills, 0)} fills</span>}</dd></div>
            <div><dt>Win rate</dt><dd>{formatPercent(data.data.performance.metrics.win_rate, 0)}</dd></div>
            <AnnualisedStat label="Sharpe" metrics={data.data.performance.metrics} name="sharpe" format={(v) => formatNumber(v, 2)} />
            <AnnualisedStat label="CAGR" metrics={data.data.performance.metrics} name="cagr" format={(v) => formatPercent(v)} />
          </dl>
          {data.data.equity.length >= 2 ? <LineChart values={data.data.equity} label="Equity curve" format={(v) => formatZAR(v)} testId="bot-equity-chart" /> : <p className="muted small">The equity curve appears after a few bars.</p>}
        </>
      )}
    </Panel>
  );
}

/** An annualised figure, or "not enough history" with the server's reason as a hint. */
function AnnualisedStat({ label, metrics, name, format }: { label: string; metrics: Metrics; name: string; format: (v: number) => string }) {
  const value = metrics[name];
  const why = metrics.unavailable?.[name];
  return (
    <div>
      <dt>{label}</dt>
      <dd title={why}>{typeof value === "number" ? format(value) : why ? <span className="muted small">not enough history</span> : "—"}</dd>
    </div>
  );
}

function AllocationPanel({ bot, onChanged }: { bot: Bot; onChanged: () => void }) {
  const { api } = useAuth();
  const [amount, setAmount] = useState("");
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<{ kind: "error" | "success"; text: string } | null>(null);
  const run = async (event: FormEvent, kind: "allocate" | "deallocate") => {
    event.preventDefault();
    const value = parseAmount(amount);
    if (!value) {
      setMessage({ kind: "error", text: "Enter a positive amount in rand." });
      return;
    }
    setBusy(true);
    setMessage(null);
    try {
      await (kind === "allocate" ? api.bots.allocate(bot.id, value) : api.bots.deallocate(bot.id, value));
      setMessage({ kind: "success", text: `${kind === "allocate" ? "Allocated" : "Returned"} ${formatZAR(value)}.` });
      setAmount("");
      onChanged();
    } catch (err) {
      setMessage({ kind: "error", text: describeError(err) });
    } finally {
      setBusy(false);
    }
  };
  return (
    <Panel title="Allocation" description="Move capital between your free balance and this bot's cash.">
      {message && <InlineAlert kind={message.kind}>{message.text}</InlineAlert>}
      <form className="form" onSubmit={(e) => void run(e, "allocate")} aria-label="Allocate capital">
        <Field label="Amount (ZAR)" value={amount} onChange={(e) => setAmount(e.target.value)} inputMode="decimal" autoComplete="off" />
        <div className="button-row">
          <button type="submit" className="btn btn-primary" disabled={busy}>Allocate</button>
          <button type="button" className="btn btn-secondary" disabled={busy} onClick={(e) => void run(e, "deallocate")}>Return to free</button>
        </div>
      </form>
    </Panel>
  );
}

const OUTCOMES = ["", "order", "hold", "denied", "skipped"];

function DecisionsPanel({ bot }: { bot: Bot }) {
  const { api } = useAuth();
  const [outcome, setOutcome] = useState("");
  const [pages, setPages] = useState<Decision[][]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [first, reload] = useResource(
    useCallback(() => api.bots.decisions(bot.id, { limit: 20, ...(outcome ? { outcome } : {}) }), [api, bot.id, outcome]),
  );
  useLiveReload(["fill", "order"], () => {
    if (pages.length === 0) reload();
  }, bot.id, 3000);
  const [loadingMore, setLoadingMore] = useState(false);
  const [moreError, setMoreError] = useState<unknown>(null);
  const next = pages.length > 0 ? cursor : first.state === "ready" ? first.data.next_cursor : null;
  const more = async () => {
    if (!next) return;
    setLoadingMore(true);
    setMoreError(null);
    try {
      const page = await api.bots.decisions(bot.id, { limit: 20, cursor: next, ...(outcome ? { outcome } : {}) });
      setPages((p) => [...p, page.items]);
      setCursor(page.next_cursor);
    } catch (err) {
      setMoreError(err);
    } finally {
      setLoadingMore(false);
    }
  };
  const items = first.state === "ready" ? [...first.data.items, ...pages.flat()] : [];
  return (
    <Panel title="Decision traces" description="Every bar the bot decided on: the rule that fired, its inputs and indicators, the risk checks, and what executed.">
      <div className="toolbar">
        <label className="inline-label">
          Outcome{" "}
          <select value={outcome} onChange={(e) => { setOutcome(e.target.value); setPages([]); setCursor(null); }}>
            {OUTCOMES.map((o) => <option key={o} value={o}>{o === "" ? "all" : o}</option>)}
          </select>
        </label>
      </div>
      {first.state === "loading" && <Loading label="Loading decisions…" />}
      {first.state === "error" && <ErrorNotice error={first.error} onRetry={reload} />}
      {first.state === "ready" && items.length === 0 && <EmptyState title="No decisions yet">The bot records one decision per bar once it runs.</EmptyState>}
      {items.length > 0 && (
        <ul className="trace-list" aria-label="Decisions">
          {items.map((d) => <DecisionRow key={d.id} decision={d} />)}
        </ul>
      )}
      {moreError !== null && <ErrorNotice error={moreError} onRetry={() => void more()} />}
      {next && first.state === "ready" && (
        <button type="button" className="btn btn-secondary" onClick={() => void more()} disabled={loadingMore}>
          {loadingMore ? "Loading…" : "Older decisions"}
        </button>
      )}
    </Panel>
  );
}

function DecisionRow({ decision }: { decision: Decision }) {
  const checks = decision.trace.risk?.checks ?? [];
  const indicators = Object.entries(decision.trace.indicators ?? {});
  return (
    <li className="trace" data-testid="decision-row">
      <details>
        <summary>
          <span className={`badge outcome-${decision.outcome}`}>{decision.outcome}</span>
          <span className="trace-rule">{decision.rule}</span>
          <span className="muted small nowrap">{formatDateTime(decision.ts)}</span>
        </summary>
        <div className="trace-body">
          {indicators.length > 0 && (
            <p className="small">
              <strong>Indicators:</strong> {indicators.map(([k, v]) => `${k} ${typeof v === "number" ? formatNumber(v, 4) : String(v)}`).join(" · ")}
            </p>
          )}
          {checks.length > 0 && (
            <ul className="checks">
              {checks.map((c) => (
                <li key={c.name} className={c.passed ? "success-text" : "danger-text"}>
                  {c.passed ? "✓" : "✗"} {c.name}: <span className="muted">{c.detail}</span>
                </li>
              ))}
            </ul>
          )}
          <pre className="json" tabIndex={0} aria-label="Full decision trace (JSON)">{JSON.stringify(decision.trace, null, 2)}</pre>
        </div>
      </details>
    </li>
  );
}
