import { useCallback, useId, useRef, useState, type FormEvent } from "react";
import { ApiError, describeError, isUnavailable } from "../api/errors";
import type { EmergencyStopReport, MonteCarlo, VarResult } from "../api/types";
import { useAuth } from "../auth/AuthContext";
import { FanChart, Histogram } from "../components/charts/Svg";
import { Page, Panel } from "../components/Page";
import { RiskBandBadge } from "../components/RiskBand";
import { EmptyState, Unavailable, ErrorNotice, InlineAlert, Loading } from "../components/StateViews";
import { fanFromPercentiles, type Bin } from "../lib/chartData";
import { hasPath, useApiPaths } from "../lib/capabilities";
import { featureOn, useFeatures } from "../lib/features";
import { formatDateTime, formatNumber, formatPercent, formatSignedZAR, formatZAR } from "../lib/format";
import { useResource } from "../lib/useResource";
import { fellBack, varMethodNotes } from "../lib/varNotes";
import { useLiveReload } from "../live/LiveContext";
import { alertLabel, alertText } from "../lib/alertLabels";
import { confirmsStop, STOP_WORD } from "../lib/stopConfirm";
import { LIMIT_RULES, limitsPayload, rulesToForm, validateRules, type FormValues } from "../lib/riskSettings";
import { RiskRuleFields } from "../components/RiskRuleFields";
import { TableScroll } from "../components/TableScroll";

const METHODS = [
  { id: "historical", label: "Historical" },
  { id: "parametric", label: "Parametric (normal)" },
  { id: "cornish_fisher", label: "Cornish-Fisher" },
  { id: "monte_carlo", label: "Monte Carlo" },
];

const nothingAtRisk = (err: unknown) => err instanceof ApiError && (err.code === "nothing_at_risk" || err.code === "insufficient_history");

export function Risk() {
  const paths = useApiPaths();
  const available = hasPath(paths, "/api/v1/risk/var");
  const analytics = featureOn(useFeatures(), "risk_analytics");
  return (
    <Page title="Risk" intro="How much you could lose, and the brakes that stop it.">
      {available === null && <Loading label="Checking the risk engine…" />}
      {available === false && (
        <div className="grid">
          <Panel title="VaR and CVaR"><Unavailable title="No positions to measure">Historical and parametric Value at Risk with expected shortfall.</Unavailable></Panel>
          <Panel title="Monte Carlo"><Unavailable title="No simulations yet">A histogram of simulated outcomes and a fan chart of equity paths.</Unavailable></Panel>
          <Panel title="Stress tests"><Unavailable title="No scenarios run">Replays of crash scenarios against your current book.</Unavailable></Panel>
          <Panel title="Circuit breakers"><Unavailable title="No breakers configured">Daily loss and drawdown breakers, and the emergency stop.</Unavailable></Panel>
        </div>
      )}
      {available === true && (
        <>
          <EmergencyPanel />
          {analytics ? (
            <>
              <VarPanel />
              <MonteCarloPanel />
              <div className="grid">
                <BacktestPanel />
                <BreakersPanel />
              </div>
              <StressPanel />
            </>
          ) : (
            <>
              <InlineAlert kind="info">Value at Risk, Monte Carlo and stress tests are turned off by your administrator.</InlineAlert>
              <BreakersPanel />
            </>
          )}
        </>
      )}
    </Page>
  );
}

function VarPanel() {
  const { api } = useAuth();
  const [confidence, setConfidence] = useState(0.95);
  const [horizon, setHorizon] = useState(1);
  const [data, reload] = useResource(
    useCallback(
      () => Promise.all(METHODS.map((m) => api.risk.var({ method: m.id, confidence, horizon_days: horizon }).then((r) => r, (e: unknown) => e as Error))),
      [api, confidence, horizon],
    ),
  );
  useLiveReload(["fill"], reload, undefined, 15000);
  const results = data.state === "ready" ? data.data : [];
  const main = results.find((r): r is VarResult => !(r instanceof Error));
  const allFailed = data.state === "ready" && main === undefined;
  const methodNotes = varMethodNotes(METHODS, results);
  return (
    <Panel title="Value at Risk" reserve={[760, 495]} description="Losses on today's portfolio that should only be exceeded on the worst days, by four methods.">
      <div className="toolbar">
        <label className="inline-label">Confidence <select value={confidence} onChange={(e) => setConfidence(Number(e.target.value))}>{[0.9, 0.95, 0.99].map((c) => <option key={c} value={c}>{formatPercent(c, 0)}</option>)}</select></label>
        <label className="inline-label">Horizon <select value={horizon} onChange={(e) => setHorizon(Number(e.target.value))}>{[1, 5, 10, 30].map((d) => <option key={d} value={d}>{d} {d === 1 ? "day" : "days"}</option>)}</select></label>
      </div>
      {data.state === "loading" && <Loading label="Computing VaR…" />}
      {data.state === "error" && <ErrorNotice error={data.error} onRetry={reload} />}
      {allFailed && <ErrorNotice error={results[0]} onRetry={reload} />}
      {main && (
        <>
          <div className={`var-hero band-bg-${main.band}`}>
            <RiskBandBadge band={main.band} />
            <p className="var-sentence" data-testid="var-sentence">{main.sentence}</p>
            {main.note && <p className="muted small">{main.note}</p>}
          </div>
          <TableScroll label="VaR and CVaR by method">
            <table className="table" data-testid="var-table">
              <caption className="sr-only">VaR and CVaR by method</caption>
              <thead><tr><th>Method</th><th className="num">VaR</th><th className="num">VaR %</th><th className="num">CVaR</th><th className="num">CVaR %</th></tr></thead>
              <tbody>
                {METHODS.map((m, i) => {
                  const r = results[i];
                  if (!r || r instanceof Error) return <tr key={m.id}><td>{m.label}</td><td colSpan={4} className="muted">{r ? describeError(r) : "—"}</td></tr>;
                  return (
                    <tr key={m.id}>
                      <td>
                        {m.label}
                        {fellBack(r) && <> <span className="badge badge-warning" title={r.fallback_reason ?? undefined}>shows {r.method_used}</span></>}
                        {r.capped && <> <span className="badge badge-warning">capped at 100%</span></>}
                      </td>
                      <td className="num">{formatZAR(r.var_amount)}</td>
                      <td className="num">{formatPercent(r.var_percent / 100, 3)}</td>
                      <td className="num">{formatZAR(r.cvar_amount)}</td>
                      <td className="num">{formatPercent(r.cvar_percent / 100, 3)}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </TableScroll>
          {methodNotes.map((n) => (
            <InlineAlert key={n.method} kind="info"><span data-testid={`var-note-${n.method}`}><strong>{n.label}:</strong> {n.text}</span></InlineAlert>
          ))}
          <p className="muted small">Portfolio value {formatZAR(main.portfolio_value)} · {formatNumber(main.observations, 0)} daily returns</p>
        </>
      )}
    </Panel>
  );
}

export function mcBins(mc: MonteCarlo): Bin[] {
  const { edges, counts } = mc.histogram;
  return counts.map((count, i) => ({ x0: edges[i] ?? NaN, x1: edges[i + 1] ?? NaN, count })).filter((b) => Number.isFinite(b.x0) && Number.isFinite(b.x1));
}

function MonteCarloPanel() {
  const { api } = useAuth();
  const [days, setDays] = useState(30);
  const [method, setMethod] = useState("gbm");
  const [data, reload] = useResource(useCallback(() => api.risk.monteCarlo({ days, simulations: 2000, method, seed: 42 }), [api, days, method]));
  const mc = data.state === "ready" ? data.data : null;
  const bins = mc ? mcBins(mc) : [];
  const fan = mc && mc.fan_chart.values.length > 0 ? fanFromPercentiles(Object.fromEntries(mc.fan_chart.percentiles.map((p, i) => [String(p), mc.fan_chart.values[i] ?? []]))) : null;
  return (
    <Panel title="Monte Carlo" description="Thousands of simulated futures of today's portfolio (fixed seed: the same inputs give the same picture).">
      <div className="toolbar">
        <label className="inline-label">Horizon <select value={days} onChange={(e) => setDays(Number(e.target.value))}>{[10, 30, 90].map((d) => <option key={d} value={d}>{d} days</option>)}</select></label>
        <label className="inline-label">Model <select value={method} onChange={(e) => setMethod(e.target.value)}>{["gbm", "bootstrap", "block_bootstrap", "stationary_bootstrap"].map((m) => <option key={m} value={m}>{m.replace("_", " ")}</option>)}</select></label>
      </div>
      {data.state === "loading" && <Loading label="Simulating…" />}
      {data.state === "error" && (nothingAtRisk(data.error) ? <EmptyState title="Nothing at risk">{describeError(data.error)}</EmptyState> : <ErrorNotice error={data.error} onRetry={reload} />)}
      {mc && mc.note && <InlineAlert kind="info">{mc.note}</InlineAlert>}
      {mc && (
        <>
          <dl className="stats">
            <div><dt>Today</dt><dd>{formatZAR(mc.capital)}</dd></div>
            <div><dt>Median in {mc.horizon_days} d</dt><dd>{formatZAR(mc.median)}</dd></div>
            <div><dt>Worst 5%</dt><dd>{formatZAR(mc.p5)}</dd></div>
            <div><dt>Best 5%</dt><dd>{formatZAR(mc.p95)}</dd></div>
            <div><dt>Chance of profit</dt><dd>{formatPercent(mc.prob_profit, 0)}</dd></div>
            <div><dt>Chance to lose &gt; {formatNumber(mc.loss_threshold_pct ?? 20, 0)}%</dt><dd>{formatPercent(mc.prob_loss_more_than_x, 1)}</dd></div>
          </dl>
          <div className="grid">
            <div>
              <h3 className="chart-title">Outcomes after {mc.horizon_days} days</h3>
              {bins.length > 0 ? (
                <Histogram
                  bins={bins}
                  label={`Histogram of ${mc.simulations} simulated portfolio values after ${mc.horizon_days} days`}
                  markers={[
                    { value: mc.p5, label: "5th percentile", color: "#ff8080" },
                    { value: mc.capital, label: "today", color: "#ffc857" },
                  ]}
                  format={(v) => formatZAR(v)}
                  testId="mc-histogram"
                />
              ) : (
                <p className="muted">No spread to draw: nothing in the portfolio moves.</p>
              )}
            </div>
            <div>
              <h3 className="chart-title">Fan chart of paths</h3>
              {fan ? <FanChart fan={fan} label={`Fan chart: percentiles of simulated portfolio value over ${mc.horizon_days} days`} format={(v) => formatZAR(v)} /> : <p className="muted">No paths to draw.</p>}
            </div>
          </div>
        </>
      )}
    </Panel>
  );
}

function BacktestPanel() {
  const { api } = useAuth();
  const [data, reload] = useResource(useCallback(() => api.risk.backtest({ confidence: 0.95, method: "historical" }), [api]));
  return (
    <Panel title="VaR backtest" description="Would yesterday's VaR have held? Rolling one-day 95% VaR against what happened.">
      {data.state === "loading" && <Loading label="Backtesting…" />}
      {data.state === "error" && (nothingAtRisk(data.error) ? <EmptyState title="Nothing to backtest">{describeError(data.error)}</EmptyState> : <ErrorNotice error={data.error} onRetry={reload} />)}
      {data.state === "ready" && (
        <>
          <p data-testid="backtest-verdict">{data.data.verdict}</p>
          {data.data.note && <InlineAlert kind="info">{data.data.note}</InlineAlert>}
          <dl className="stats">
            <div><dt>Breaches</dt><dd>{data.data.breaches} / {formatNumber(data.data.expected_breaches, 1)} expected</dd></div>
            <div><dt>Breach rate</dt><dd>{formatPercent(data.data.breach_rate)}</dd></div>
            <div><dt>Kupiec POF</dt><dd>LR {formatNumber(data.data.kupiec.statistic, 3)} · p {formatNumber(data.data.kupiec.p_value, 3)} {data.data.kupiec.rejected ? <span className="badge badge-danger">rejected</span> : <span className="badge badge-success">passes</span>}</dd></div>
            <div><dt>Christoffersen</dt><dd>LR {formatNumber(data.data.christoffersen.test.statistic, 3)} · p {formatNumber(data.data.christoffersen.test.p_value, 3)} {data.data.christoffersen.test.rejected ? <span className="badge badge-danger">rejected</span> : <span className="badge badge-success">passes</span>}</dd></div>
          </dl>
          <p className="muted small">{formatNumber(data.data.observations, 0)} days, {data.data.window}-day window, {data.data.method}.</p>
        </>
      )}
    </Panel>
  );
}

function StressPanel() {
  const { api } = useAuth();
  const [data, reload] = useResource(useCallback(() => api.risk.stress(), [api]));
  return (
    <Panel title="Stress tests" description="Historical crashes replayed on today's portfolio.">
      {data.state === "loading" && <Loading label="Running scenarios…" />}
      {data.state === "error" && isUnavailable(data.error, "stress_data_unavailable") && (
        <EmptyState title="Scenario data not installed">
          Stress tests replay recorded crashes from the shared market-data folder, which this
          installation does not have. Point <code>AMARKTAI_SHARED_DATA</code> at it to enable them.
        </EmptyState>
      )}
      {data.state === "error" && !isUnavailable(data.error, "stress_data_unavailable") && (
        <ErrorNotice error={data.error} onRetry={reload} />
      )}
      {data.state === "ready" && data.data.length === 0 && <EmptyState title="No scenarios" />}
      {data.state === "ready" && data.data.length > 0 && (
        <ul className="list" aria-label="Stress scenarios">
          {data.data.map((s) => (
            <li key={s.scenario} className="list-row list-row-wrap" data-testid="stress-row">
              <div className="list-main">
                <span className="list-title">{s.scenario.replaceAll("_", " ")}</span>
                <span className="muted small">{s.description}</span>
                <span className="small">{s.holdings.filter((h) => h.shock_pct !== 0).map((h) => `${h.asset} ${formatNumber(h.shock_pct, 1)}%`).join(" · ") || "no risky holdings"}</span>
              </div>
              <div className="num">
                <strong className={s.total_pnl < 0 ? "danger-text" : ""}>{formatSignedZAR(s.total_pnl)}</strong>
                <div className="muted small">{formatNumber(s.total_pnl_percent, 2)}% → {formatZAR(s.stressed_value)}</div>
              </div>
            </li>
          ))}
        </ul>
      )}
    </Panel>
  );
}

const LIMIT_LABELS: Record<string, string> = {
  daily_loss_pct: "Daily loss %",
  daily_loss_amount: "Daily loss (ZAR)",
  max_drawdown_pct: "Max drawdown %",
  max_consecutive_losses: "Consecutive losses",
  error_burst_count: "Error burst",
  max_exposure: "Max exposure (ZAR)",
};

function BreakersPanel() {
  const { api } = useAuth();
  const [data, reload] = useResource(useCallback(async () => {
    const [breakers, bots] = await Promise.all([api.risk.breakers(), api.bots.list()]);
    return { breakers, names: new Map(bots.map((b) => [b.id, b.name])) };
  }, [api]));
  useLiveReload(["risk", "alert", "bot_status"], reload, undefined, 2000);
  const [message, setMessage] = useState<string | null>(null);
  const reset = async () => {
    try {
      const r = await api.risk.resetBreakers();
      setMessage(`Breakers reset; ${r.released_bots.length} bot(s) released to paused.`);
    } catch (err) {
      setMessage(describeError(err));
    }
    reload();
  };
  return (
    <Panel title="Circuit breakers" description="Limits that halt bots automatically, per account, bot and platform.">
      {message && <InlineAlert kind="info">{message}</InlineAlert>}
      {data.state === "loading" && <Loading />}
      {data.state === "error" && <ErrorNotice error={data.error} onRetry={reload} />}
      {data.state === "ready" && (
        <>
          {data.data.breakers.active.length > 0 ? (
            <div className="inline-alert inline-alert-error" role="alert" data-testid="breakers-active">
              <strong>{data.data.breakers.active.length} active trip(s).</strong>
              <ul className="checks">
                {data.data.breakers.active.map((a, i) => {
                  const label = alertLabel(String(a.rule ?? a.breaker ?? a.kind ?? "trip"));
                  const detail = alertText(a.message ?? a.reason, a.kind);
                  const when = typeof a.ts === "string" ? a.ts : typeof a.created_at === "string" ? a.created_at : null;
                  return <li key={i} data-testid="breaker-trip">{label}{detail !== label ? `: ${detail}` : ""} {when ? `(${formatDateTime(when)})` : ""}</li>;
                })}
              </ul>
              <button type="button" className="btn btn-secondary btn-small" onClick={() => void reset()}>Reset my breakers</button>
            </div>
          ) : (
            <p><span className="badge badge-success">No breaker tripped</span></p>
          )}
          <TableScroll label="Breaker limits by level">
            <table className="table">
              <thead><tr><th>Level</th><th>Limits set</th></tr></thead>
              <tbody>
                {data.data.breakers.levels.map((l) => {
                  const set = Object.entries(l.limits).filter(([k, v]) => v !== null && k !== "error_burst_window_s");
                  const who = l.scope === "bot" ? data.data.names.get(l.owner_id) ?? "bot" : l.scope === "user" ? "your account" : "platform";
                  return (
                    <tr key={`${l.scope}-${l.owner_id}`}>
                      <td>{who} <span className="muted small">({l.scope})</span></td>
                      <td>{set.length === 0 ? <span className="muted">none</span> : set.map(([k, v]) => `${LIMIT_LABELS[k] ?? k}: ${String(v)}`).join(" · ")}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </TableScroll>
          <LimitsForm stored={data.data.breakers.levels.find((l) => l.scope === "user")?.limits ?? null} onSaved={reload} />
        </>
      )}
    </Panel>
  );
}

/** Your account's breaker limits (PUT /risk/limits): every field empty switches that rule off. */
function LimitsForm({ stored, onSaved }: { stored: Record<string, unknown> | null; onSaved: () => void }) {
  const { api } = useAuth();
  const [open, setOpen] = useState(false);
  const [values, setValues] = useState<FormValues>(() => rulesToForm(LIMIT_RULES, stored));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);
  const { errors, out } = validateRules(LIMIT_RULES, values);
  const valid = Object.keys(errors).length === 0;
  const start = () => {
    setValues(rulesToForm(LIMIT_RULES, stored));
    setError(null);
    setSaved(false);
    setOpen(true);
  };
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!valid) return;
    setBusy(true);
    setError(null);
    try {
      await api.risk.setLimits(limitsPayload(out));
      setSaved(true);
      setOpen(false);
      onSaved();
    } catch (err) {
      setError(describeError(err));
    } finally {
      setBusy(false);
    }
  };
  if (!open)
    return (
      <>
        {saved && <InlineAlert kind="success">Breaker limits saved.</InlineAlert>}
        <button type="button" className="btn btn-secondary btn-small" onClick={start}>Set my limits…</button>
      </>
    );
  return (
    <form className="form subform" aria-label="Breaker limits" onSubmit={(e) => void submit(e)} noValidate>
      <p className="muted small">Limits for your whole account. Leave a field empty to switch that rule off.</p>
      {error && <InlineAlert kind="error">{error}</InlineAlert>}
      <RiskRuleFields rules={LIMIT_RULES} values={values} errors={errors} onChange={setValues} />
      <div className="button-row">
        <button type="submit" className="btn btn-primary" disabled={busy || !valid}>{busy ? "Saving…" : "Save limits"}</button>
        <button type="button" className="btn btn-secondary" onClick={() => setOpen(false)}>Cancel</button>
      </div>
    </form>
  );
}

/** The emergency stop: a modal that only arms after typing STOP. */
function EmergencyPanel() {
  const { api } = useAuth();
  const dialog = useRef<HTMLDialogElement>(null);
  const [typed, setTyped] = useState("");
  const [busy, setBusy] = useState(false);
  const [report, setReport] = useState<EmergencyStopReport | null>(null);
  const [error, setError] = useState<string | null>(null);
  const titleId = useId();
  const inputId = useId();
  const open = () => {
    setTyped("");
    setError(null);
    dialog.current?.showModal();
  };
  const armed = confirmsStop(typed);
  const confirm = async () => {
    if (!armed) return;
    setBusy(true);
    setError(null);
    try {
      setReport(await api.risk.emergencyStop());
      dialog.current?.close();
    } catch (err) {
      setError(describeError(err));
    } finally {
      setBusy(false);
    }
  };
  const cancelled = report ? (Array.isArray(report.orders_cancelled) ? report.orders_cancelled.length : Number(report.orders_cancelled)) : 0;
  return (
    <section className="panel panel-danger" aria-labelledby="estop-title">
      <div className="estop">
        <div>
          <h2 id="estop-title">Emergency stop</h2>
          <p className="muted">Cancels every open order and halts all your bots at once. Positions are kept. Bots stay halted until you reset the breakers.</p>
        </div>
        <button type="button" className="btn btn-danger btn-estop" onClick={open}>Emergency stop…</button>
      </div>
      {report && (
        <InlineAlert kind="success">
          <span data-testid="estop-report">Emergency stop done: {report.bots_halted.length} bot(s) halted, {cancelled} order(s) cancelled in {formatNumber(report.elapsed_ms, 0)} ms.</span>
        </InlineAlert>
      )}
      <dialog ref={dialog} className="dialog" aria-labelledby={titleId} onClose={() => setTyped("")}>
        <h2 id={titleId} className="dialog-title">Stop all trading now?</h2>
        <div className="dialog-body">
          <p>Every open order is cancelled and every running or paused bot is <strong>halted</strong>. This cannot be undone from here.</p>
          <div className="field">
            <label htmlFor={inputId}>Type {STOP_WORD} to confirm</label>
            <input id={inputId} aria-describedby={`${inputId}-hint`} value={typed} onChange={(e) => setTyped(e.target.value)} autoComplete="off" autoCapitalize="characters" spellCheck={false} onKeyDown={(e) => e.key === "Enter" && void confirm()} />
            <p id={`${inputId}-hint`} className="hint" data-testid="estop-hint" aria-live="polite">
              {armed ? "Confirmed: the button below stops everything." : typed.trim() ? `Type the word ${STOP_WORD} (upper or lower case), nothing else.` : `The word ${STOP_WORD}, in upper or lower case.`}
            </p>
          </div>
          {error && <InlineAlert kind="error">{error}</InlineAlert>}
        </div>
        <div className="dialog-actions">
          <button type="button" className="btn btn-secondary" onClick={() => dialog.current?.close()} autoFocus>Cancel</button>
          <button type="button" className="btn btn-danger" onClick={() => void confirm()} disabled={!armed || busy}>{busy ? "Stopping…" : "Stop everything"}</button>
        </div>
      </dialog>
    </section>
  );
}
