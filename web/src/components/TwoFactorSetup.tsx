import { useState, type FormEvent } from "react";
import { describeError } from "../api/errors";
import type { Enrolment } from "../api/types";
import { useAuth } from "../auth/AuthContext";
import { Field } from "./Field";
import { RecoveryCodes } from "./RecoveryCodes";
import { InlineAlert } from "./StateViews";

type Step = { name: "start" } | { name: "scan"; enrolment: Enrolment } | { name: "codes"; codes: string[] };

/** Enrol → scan QR (or type the secret) → confirm a code → show recovery codes once. */
export function TwoFactorSetup({ onFinished }: { onFinished: () => void }) {
  const { api, setUser } = useAuth();
  const [step, setStep] = useState<Step>({ name: "start" });
  const [code, setCode] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const run = async (action: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await action();
    } catch (err) {
      setError(describeError(err));
    } finally {
      setBusy(false);
    }
  };
  const start = () => run(async () => setStep({ name: "scan", enrolment: await api.twoFactor.enroll() }));
  const verify = (event: FormEvent) => {
    event.preventDefault();
    void run(async () => {
      const { recovery_codes } = await api.twoFactor.verify(code.trim());
      // Show the codes before refreshing the user: a parent that switches on
      // `totp_enabled` (Settings) would otherwise unmount this and lose them.
      setStep({ name: "codes", codes: recovery_codes });
    });
  };
  const done = () =>
    void run(async () => {
      setUser(await api.auth.me());
      onFinished();
    });

  if (step.name === "codes") return <RecoveryCodes codes={step.codes} onDone={done} />;
  if (step.name === "start")
    return (
      <div className="stack">
        <p>Protect your account with an authenticator app (Google Authenticator, Aegis, 1Password, …). You will need a code from it each time you sign in.</p>
        {error && <InlineAlert kind="error">{error}</InlineAlert>}
        <button type="button" className="btn btn-primary" onClick={() => void start()} disabled={busy}>
          {busy ? "Preparing…" : "Set up two-factor authentication"}
        </button>
      </div>
    );
  const { enrolment } = step;
  return (
    <form className="twofa-scan" onSubmit={verify}>
      <img className="qr" src={`data:image/png;base64,${enrolment.qr_png_base64}`} width="196" height="196" alt="QR code to add Amarktai Network to your authenticator app" />
      <div className="stack">
        <p>Scan the QR code with your authenticator app, or type this key into it:</p>
        <code className="secret" data-testid="totp-secret" aria-label="Setup key">
          {enrolment.secret}
        </code>
        <Field label="6-digit code from the app" name="totp-code" value={code} onChange={(e) => setCode(e.target.value)} inputMode="numeric" autoComplete="one-time-code" pattern="[0-9]{6}" maxLength={6} required />
        {error && <InlineAlert kind="error">{error}</InlineAlert>}
        <button type="submit" className="btn btn-primary" disabled={busy}>
          {busy ? "Checking…" : "Verify and enable"}
        </button>
      </div>
    </form>
  );
}
