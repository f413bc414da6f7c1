import { useState } from "react";
import { useUser } from "../auth/AuthContext";
import { Page, Panel } from "../components/Page";
import { TwoFactorSetup } from "../components/TwoFactorSetup";
import { Link, navigate } from "../router/hashRouter";

/** First run after registering: account done → offer 2FA → continue to the dashboard. */
export function Onboarding() {
  const user = useUser();
  const [twoFactorDone, setTwoFactorDone] = useState(user.totp_enabled);
  return (
    <Page title="Welcome to Amarktai" intro={`Your account ${user.email} is ready. Two more steps make it safe and useful.`}>
      <ol className="steps">
        <li className="step step-done">
          <span className="step-marker" aria-hidden="true">✓</span>
          <span>Account created</span>
        </li>
        <li className={twoFactorDone ? "step step-done" : "step step-current"} aria-current={twoFactorDone ? undefined : "step"}>
          <span className="step-marker" aria-hidden="true">{twoFactorDone ? "✓" : "2"}</span>
          <span>Two-factor authentication</span>
        </li>
        <li className="step">
          <span className="step-marker" aria-hidden="true">3</span>
          <span>Start a demo paper bot</span>
        </li>
      </ol>
      <Panel title="Secure your account">
        {twoFactorDone ? (
          <p className="success-text">Two-factor authentication is on.</p>
        ) : (
          <TwoFactorSetup onFinished={() => setTwoFactorDone(true)} />
        )}
      </Panel>
      <Panel title="Your first bot">
        <p>Paper bots trade simulated rand on the built-in market, with no money at stake.</p>
        <ol className="small">
          <li>Deposit paper funds in the <Link to="/wallet">Wallet</Link>.</li>
          <li>Create a paper bot on the <Link to="/bots">Bots</Link> screen, with its stop-loss and take-profit, and start it.</li>
        </ol>
      </Panel>
      <div className="button-row">
        <button type="button" className={twoFactorDone ? "btn btn-primary" : "btn btn-ghost"} onClick={() => navigate("/", { replace: true })}>
          {twoFactorDone ? "Continue to dashboard" : "Skip for now"}
        </button>
      </div>
    </Page>
  );
}
