import { useState, type FormEvent } from "react";
import { useAuth } from "../auth/AuthContext";
import { AuthCard } from "../components/AuthCard";
import { Field } from "../components/Field";
import { InlineAlert } from "../components/StateViews";
import { Link, navigate } from "../router/hashRouter";

const MIN_PASSWORD = 10;

export function Register() {
  const { state, register } = useAuth();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [confirm, setConfirm] = useState("");
  const [localError, setLocalError] = useState<string | null>(null);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (password.length < MIN_PASSWORD) return setLocalError(`Use at least ${MIN_PASSWORD} characters for your password.`);
    if (password !== confirm) return setLocalError("The two passwords differ.");
    setLocalError(null);
    if (await register(email, password)) navigate("/welcome", { replace: true });
  };

  const error = localError ?? state.error;
  return (
    <AuthCard
      title="Create your account"
      subtitle="Your platform, your keys. The first step takes a minute."
      footer={
        <p>
          Already have an account? <Link to="/">Sign in</Link>
        </p>
      }
    >
      <form onSubmit={(e) => void submit(e)} className="form">
        <Field label="Email" name="email" type="email" value={email} onChange={(e) => setEmail(e.target.value)} autoComplete="username" required autoFocus />
        <Field
          label="Password"
          name="new-password"
          type="password"
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          autoComplete="new-password"
          minLength={MIN_PASSWORD}
          required
          hint={`At least ${MIN_PASSWORD} characters. A passphrase of a few words works well.`}
        />
        <Field label="Confirm password" name="confirm-password" type="password" value={confirm} onChange={(e) => setConfirm(e.target.value)} autoComplete="new-password" required />
        {error && <InlineAlert kind="error">{error}</InlineAlert>}
        <button type="submit" className="btn btn-primary btn-block" disabled={state.pending}>
          {state.pending ? "Creating account…" : "Create account"}
        </button>
      </form>
    </AuthCard>
  );
}
