import { useCallback } from "react";
import { useAuth, useUser } from "../auth/AuthContext";
import { Page, Panel } from "../components/Page";
import { ComingSoon, EmptyState, ErrorNotice, Loading } from "../components/StateViews";
import { Link } from "../router/hashRouter";
import { useResource } from "../lib/useResource";
import { exchangeName } from "../lib/exchanges";

export function Dashboard() {
  const user = useUser();
  return (
    <Page title="Dashboard" intro={`Signed in as ${user.email}`}>
      <div className="grid">
        <SecurityCard />
        <ExchangesCard />
      </div>
      <div className="grid">
        <Panel title="Equity and PnL">
          <ComingSoon title="No equity yet">Your equity curve and realised / unrealised profit in rand appear here once bots trade.</ComingSoon>
        </Panel>
        <Panel title="Value at Risk">
          <ComingSoon title="No risk figures yet">One-day 95% VaR and CVaR of your open positions, from the risk engine.</ComingSoon>
        </Panel>
        <Panel title="Market regime">
          <ComingSoon title="No regime detected yet">The detected market regime (trending, ranging, volatile) per market.</ComingSoon>
        </Panel>
        <Panel title="Alerts">
          <ComingSoon title="No alerts">Circuit breakers, fills and bot health alerts stream in here in real time.</ComingSoon>
        </Panel>
      </div>
    </Page>
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
