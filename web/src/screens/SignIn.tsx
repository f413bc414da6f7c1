import { useState, type FormEvent } from "react";
import { useAuth } from "../auth/AuthContext";
import { AuthCard } from "../components/AuthCard";
import { Field } from "../components/Field";
import { InlineAlert } from "../components/StateViews";
import { Link } from "../router/hashRouter";

export function SignIn() {
  const { state, signIn, cancelMfa } = useAuth();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [otp, setOtp] = useState("");
  const mfa = state.status === "mfa";

  const submit = (event: FormEvent) => {
    event.preventDefault();
    void signIn(mfa ? { email, password, otp: otp.trim() } : { email, password });
  };
  const back = () => {
    setOtp("");
    cancelMfa();
  };

  return (
    <AuthCard
      title={mfa ? "Two-factor check" : "Sign in"}
      subtitle={mfa ? "Enter the 6-digit code from your authenticator app, or one of your recovery codes." : "Welcome back. Sign in to manage your bots."}
      footer={
        !mfa && (
          <p>
            New here? <Link to="/register">Create an account</Link>
          </p>
        )
      }
    >
      {state.notice && <InlineAlert kind="info">{state.notice}</InlineAlert>}
      <form onSubmit={submit} className="form">
        {mfa ? (
          <Field
            key="otp"
            label="Authentication code"
            name="otp"
            value={otp}
            onChange={(e) => setOtp(e.target.value)}
            inputMode="numeric"
            autoComplete="one-time-code"
            required
            autoFocus
            maxLength={32}
          />
        ) : (
          <>
            <Field label="Email" name="email" type="email" value={email} onChange={(e) => setEmail(e.target.value)} autoComplete="username" required autoFocus />
            <Field label="Password" name="password" type="password" value={password} onChange={(e) => setPassword(e.target.value)} autoComplete="current-password" required />
          </>
        )}
        {state.error && <InlineAlert kind="error">{state.error}</InlineAlert>}
        <button type="submit" className="btn btn-primary btn-block" disabled={state.pending}>
          {state.pending ? "Signing in…" : mfa ? "Verify and sign in" : "Sign in"}
        </button>
        {mfa && (
          <button type="button" className="btn btn-ghost btn-block" onClick={back}>
            Use a different account
          </button>
        )}
      </form>
    </AuthCard>
  );
}
