import { useState, type FormEvent } from "react";
import { describeError } from "../../api/errors";
import { useAuth, useUser } from "../../auth/AuthContext";
import { Field } from "../../components/Field";
import { Panel } from "../../components/Page";
import { InlineAlert } from "../../components/StateViews";
import { TwoFactorSetup } from "../../components/TwoFactorSetup";

export function TwoFactorPanel() {
  const user = useUser();
  const [message, setMessage] = useState<string | null>(null);
  return (
    <Panel id="two-factor" title="Two-factor authentication">
      <p>
        Status:{" "}
        <strong className={user.totp_enabled ? "success-text" : "warning-text"} data-testid="twofa-status">
          {user.totp_enabled ? "On" : "Off"}
        </strong>
      </p>
      {message && <InlineAlert kind="success">{message}</InlineAlert>}
      {user.totp_enabled ? <DisableForm onDisabled={() => setMessage("Two-factor authentication is off.")} /> : <TwoFactorSetup onFinished={() => setMessage("Two-factor authentication is on.")} />}
    </Panel>
  );
}

function DisableForm({ onDisabled }: { onDisabled: () => void }) {
  const { api, setUser } = useAuth();
  const [open, setOpen] = useState(false);
  const [password, setPassword] = useState("");
  const [code, setCode] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await api.twoFactor.disable(password, code.trim());
      setUser(await api.auth.me());
      onDisabled();
    } catch (err) {
      setError(describeError(err));
      setBusy(false);
    }
  };
  if (!open)
    return (
      <button type="button" className="btn btn-secondary" onClick={() => setOpen(true)}>
        Turn off two-factor…
      </button>
    );
  return (
    <form className="form subform" onSubmit={(e) => void submit(e)} aria-label="Turn off two-factor authentication">
      <p className="muted">Confirm with your password and a current code (or a recovery code).</p>
      <Field label="Password" name="password" type="password" value={password} onChange={(e) => setPassword(e.target.value)} autoComplete="current-password" required />
      <Field label="Authentication code" name="code" value={code} onChange={(e) => setCode(e.target.value)} autoComplete="one-time-code" required />
      {error && <InlineAlert kind="error">{error}</InlineAlert>}
      <div className="button-row">
        <button type="submit" className="btn btn-danger" disabled={busy}>
          {busy ? "Turning off…" : "Turn off"}
        </button>
        <button type="button" className="btn btn-ghost" onClick={() => setOpen(false)}>
          Cancel
        </button>
      </div>
    </form>
  );
}
