import { useCallback, useState } from "react";
import { describeError } from "../../api/errors";
import type { Session } from "../../api/types";
import { useAuth } from "../../auth/AuthContext";
import { ConfirmButton } from "../../components/ConfirmButton";
import { Panel } from "../../components/Page";
import { EmptyState, ErrorNotice, InlineAlert, Loading } from "../../components/StateViews";
import { describeUserAgent, formatDateTime } from "../../lib/format";
import { useResource } from "../../lib/useResource";

export function SessionsPanel() {
  const { api, sessionId, signOut } = useAuth();
  const [sessions, reload] = useResource(useCallback(() => api.auth.sessions(), [api]));
  const [error, setError] = useState<string | null>(null);
  const isCurrent = (s: Session) => s.current ?? s.id === sessionId();

  const act = async (action: () => Promise<unknown>) => {
    setError(null);
    try {
      await action();
      reload();
    } catch (err) {
      setError(describeError(err));
    }
  };
  const revoke = (s: Session) => (isCurrent(s) ? signOut() : act(() => api.auth.revokeSession(s.id)));
  const revokeAll = async () => {
    await act(() => api.auth.revokeAllSessions());
    await signOut();
  };

  return (
    <Panel id="sessions" title="Sessions" description="Every browser or device signed in to your account.">
      {error && <InlineAlert kind="error">{error}</InlineAlert>}
      {sessions.state === "loading" && <Loading label="Loading sessions…" />}
      {sessions.state === "error" && <ErrorNotice error={sessions.error} onRetry={reload} />}
      {sessions.state === "ready" && sessions.data.length === 0 && <EmptyState title="No active sessions" />}
      {sessions.state === "ready" && sessions.data.length > 0 && (
        <>
          <ul className="list" aria-label="Sessions">
            {[...sessions.data].sort((a, b) => Number(isCurrent(b)) - Number(isCurrent(a))).map((s) => (
              <li key={s.id} className="list-row" data-testid="session-row">
                <div className="list-main">
                  <span className="list-title">
                    {describeUserAgent(s.user_agent)}
                    {isCurrent(s) && <span className="badge badge-accent">This device</span>}
                  </span>
                  <span className="muted small">
                    {s.ip ?? "unknown IP"} · last active {formatDateTime(s.last_used_at)} · expires {formatDateTime(s.expires_at)}
                  </span>
                </div>
                <ConfirmButton
                  label={isCurrent(s) ? "Sign out this device" : `Revoke session on ${describeUserAgent(s.user_agent)}`}
                  title={isCurrent(s) ? "Sign out this device?" : "Revoke this session?"}
                  message={<p>{isCurrent(s) ? "You will return to the sign-in screen." : "That device will be signed out at its next request."}</p>}
                  confirmText={isCurrent(s) ? "Sign out" : "Revoke"}
                  onConfirm={() => revoke(s)}
                  className="btn btn-secondary btn-small"
                >
                  {isCurrent(s) ? "Sign out" : "Revoke"}
                </ConfirmButton>
              </li>
            ))}
          </ul>
          <ConfirmButton title="Sign out everywhere?" message={<p>Every session, this one included, ends now.</p>} confirmText="Sign out everywhere" onConfirm={revokeAll}>
            Revoke all sessions
          </ConfirmButton>
        </>
      )}
    </Panel>
  );
}
