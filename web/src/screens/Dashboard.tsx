import { useCallback } from "react";
import { useAuth, useUser } from "../auth/AuthContext";
import { Page, Panel } from "../components/Page";
import { EmptyState, Unavailable, ErrorNotice, Loading } from "../components/StateViews";
import { Link } from "../router/hashRouter";
import { useResource } from "../lib/useResource";
import { exchangeName } from "../lib/exchanges";
import { hasPath, useApiPaths } from "../lib/capabilities";
import { featureOn, useFeatures } from "../lib/features";
import { formatDateTime, formatSignedZAR, formatTime, formatZAR } from "../lib/format";
import { LiveIndicator, useLive, useLiveReload } from "../live/LiveContext";
import { RiskBandBadge } from "../components/RiskBand";
import { StatusBadge } from "./bots/BotActions";
import { alertText } from "../lib/alertLabels";

export function Dashboard() {
  const user = useUser();
  return (
    <Page title="Dashboard" intro={`Signed in as ${user.email}`}>
      <div className="grid">
        <EquityCard />
        <VarCard />
      </div>
      <div className="grid">
        <AlertsCard />
        <BotsCard />
      </div>
      <div className="grid">
        <SecurityCard />
        <ExchangesCard />
      </div>
    </Page>
  );
}

function EquityCard() {
  const { api } = useAuth();
  const [data, reload] = useResource(
    useCallback(async () => {
      const [performance, capital] = await Promise.all([api.trading.performance(60), api.wallet.capital()]);
      return { performance, capital };
    }, [api]),
  );
  useLiveReload(["fill", "bot_status"], reload, undefined, 5000);
  const p = data.state === "ready" ? data.data.performance.user : null;
  const zar = data.state === "ready" ? data.data.capital.ZAR : undefined;
  return (
    <Panel title="Equity and PnL" reserve={[360, 285]}>
      {data.state === "loading" && <Loading />}
      {data.state === "error" && <ErrorNotice error={data.error} onRetry={reload} />}
      {p && (
        <>
          <p className="big-number" data-testid="total-equity">{formatZAR(p.equity)}</p>
          <dl className="stats">
            <div><dt>Net PnL</dt><dd className={Number(p.net_pnl) >= 0 ? "success-text" : "danger-text"}>{formatSignedZAR(p.net_pnl)}</dd></div>
            <div><dt>Realised</dt><dd>{formatSignedZAR(p.realised_pnl)}</dd></div>
            <div><dt>Unrealised</dt><dd>{formatSignedZAR(p.unrealised_pnl)}</dd></div>
            <div><dt>Fees</dt><dd>{formatZAR(p.fees)}</dd></div>
            {zar && <div><dt>Free capital</dt><dd>{formatZAR(zar.free)}</dd></div>}
            {zar && <div><dt>In bots</dt><dd>{formatZAR(zar.allocated)}</dd></div>}
          </dl>
        </>
      )}
      {data.state === "ready" && !p && <EmptyState title="No equity yet">Deposit paper funds in the Wallet to begin.</EmptyState>}
    </Panel>
  );
}

function VarCard() {
  const { api } = useAuth();
  const paths = useApiPaths();
  const features = useFeatures();
  const turnedOff = features !== null && !featureOn(features, "risk_analytics");
  const available = features === null ? null : !turnedOff && hasPath(paths, "/api/v1/risk/var");
  const [data, reload] = useResource(useCallback(() => (available ? api.risk.var({ confidence: 0.95, horizon_days: 1 }) : Promise.resolve(null)), [api, available]));
  useLiveReload(["fill"], reload, undefined, 30000);
  return (
    <Panel title="Value at Risk" reserve={[280, 285]}>
      {available === false && (
        <Unavailable title="No risk figures" badge={turnedOff ? "Turned off by your administrator" : "Not available on this server"}>
          One-day 95% VaR and CVaR of your open positions, from the risk engine.
        </Unavailable>
      )}
      {available !== false && data.state === "loading" && <Loading />}
      {available && data.state === "error" && <ErrorNotice error={data.error} onRetry={reload} />}
      {available && data.state === "ready" && data.data && (
        <div className={`var-hero band-bg-${data.data.band}`}>
          <RiskBandBadge band={data.data.band} />
          <p className="var-sentence" data-testid="dashboard-var-sentence">{data.data.sentence}</p>
          <p className="muted small">
            CVaR (average of the worst 5%) {formatZAR(data.data.cvar_amount)} · <Link to="/risk">Risk details</Link>
          </p>
        </div>
      )}
    </Panel>
  );
}

function AlertsCard() {
  const { api } = useAuth();
  const { alerts, dismissAlerts } = useLive();
  const paths = useApiPaths();
  const hasEvents = hasPath(paths, "/api/v1/risk/events");
  const [events, reload] = useResource(useCallback(() => (hasEvents ? api.risk.events(5) : Promise.resolve([])), [api, hasEvents]));
  useLiveReload(["risk", "alert"], reload, undefined, 2000);
  const recorded = events.state === "ready" ? events.data : [];
  return (
    <Panel title="Alerts" reserve={[200, 300]}>
      {alerts.length === 0 && recorded.length === 0 && (
        <EmptyState title="No alerts">Circuit breakers, emergency stops and bot health problems appear here as they happen.</EmptyState>
      )}
      {alerts.length > 0 && (
        <>
          <ul className="alerts" aria-label="Live alerts" data-testid="alerts">
            {alerts.map((a) => (
              <li key={a.key} className={`alert alert-${a.level}`}>
                <span className="badge">{a.level}</span> {a.title && <strong>{a.title}: </strong>}{a.message} <span className="muted small">{formatTime(a.ts)}</span>
              </li>
            ))}
          </ul>
          <button type="button" className="btn btn-ghost btn-small" onClick={dismissAlerts}>Clear</button>
        </>
      )}
      {recorded.length > 0 && (
        <>
          <h3 className="chart-title">Recent risk events</h3>
          <ul className="alerts" aria-label="Recent risk events">
            {recorded.map((e, i) => (
              <li key={String(e.id ?? i)} className="alert alert-warning">
                {alertText(e.message ?? e.reason, e.kind, e.breaker, e.rule)}{" "}{typeof e.created_at === "string" && <span className="muted small">{formatDateTime(e.created_at)}</span>}{typeof e.ts === "string" && <span className="muted small">{formatDateTime(e.ts)}</span>}
              </li>
            ))}
          </ul>
        </>
      )}
    </Panel>
  );
}

function BotsCard() {
  const { api } = useAuth();
  const [bots, reload] = useResource(useCallback(() => api.bots.list(), [api]));
  useLiveReload(["bot_status"], reload);
  const counts = bots.state === "ready" ? bots.data.reduce<Record<string, number>>((acc, b) => ({ ...acc, [b.status]: (acc[b.status] ?? 0) + 1 }), {}) : {};
  return (
    <Panel title="Live status" reserve={[200, 300]}>
      <p><LiveIndicator /></p>
      {bots.state === "loading" && <Loading />}
      {bots.state === "error" && <ErrorNotice error={bots.error} onRetry={reload} />}
      {bots.state === "ready" && bots.data.length === 0 && (
        <EmptyState title="No bots yet" action={<Link to="/bots" className="btn btn-primary">Create a paper bot</Link>}>Bots trade for you; start with paper money.</EmptyState>
      )}
      {bots.state === "ready" && bots.data.length > 0 && (
        <>
          <ul className="chips" aria-label="Bots by status">
            {Object.entries(counts).map(([status, n]) => (
              <li key={status} className="chip">{n} {status}</li>
            ))}
          </ul>
          <ul className="list compact-list">
            {bots.data.slice(0, 5).map((b) => (
              <li key={b.id} className="list-row">
                <Link to={`/bots/${b.id}`}>{b.name}</Link>
                <span className="nowrap">{formatZAR(b.equity ?? NaN)} <StatusBadge status={b.status} /></span>
              </li>
            ))}
          </ul>
        </>
      )}
    </Panel>
  );
}

function SecurityCard() {
  const user = useUser();
  return (
    <Panel title="Account security">
      {user.totp_enabled ? (
        <p>
          <span className="badge badge-success">2FA on</span> Your sign-ins need a code from your authenticator.
        </p>
      ) : (
        <EmptyState title="Two-factor authentication is off" action={<Link to="/settings" className="btn btn-primary">Turn on 2FA</Link>}>
          Anyone with your password can sign in and trade. Add a second factor.
        </EmptyState>
      )}
    </Panel>
  );
}

function ExchangesCard() {
  const { api } = useAuth();
  const [keys, reload] = useResource(useCallback(() => api.apiKeys.list(), [api]));
  return (
    <Panel title="Connected exchanges">
      {keys.state === "loading" && <Loading />}
      {keys.state === "error" && <ErrorNotice error={keys.error} onRetry={reload} />}
      {keys.state === "ready" && keys.data.length === 0 && (
        <EmptyState title="No exchange connected" action={<Link to="/settings" className="btn btn-secondary">Add an API key</Link>}>
          Paper trading needs no keys; live trading does.
        </EmptyState>
      )}
      {keys.state === "ready" && keys.data.length > 0 && (
        <ul className="chips" aria-label="Connected exchanges">
          {keys.data.map((key) => (
            <li key={key.id} className="chip">
              {exchangeName(key.exchange)} <span className="muted">{key.key_hint}</span>
            </li>
          ))}
        </ul>
      )}
    </Panel>
  );
}
