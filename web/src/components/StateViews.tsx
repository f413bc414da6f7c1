import type { ReactNode } from "react";
import { describeError } from "../api/errors";

export function Loading({ label = "Loading…" }: { label?: string }) {
  return (
    <div className="state state-loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" />
      <span>{label}</span>
    </div>
  );
}

export function ErrorNotice({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  return (
    <div className="state state-error" role="alert">
      <p>{describeError(error)}</p>
      {onRetry && (
        <button type="button" className="btn btn-secondary" onClick={onRetry}>
          Try again
        </button>
      )}
    </div>
  );
}

export function EmptyState({ title, children, action }: { title: string; children?: ReactNode; action?: ReactNode }) {
  return (
    <div className="state state-empty">
      <p className="state-title">{title}</p>
      {children && <div className="state-body">{children}</div>}
      {action}
    </div>
  );
}

/** The honest empty state of a feature this server does not offer (its API is absent or turned off): says what it would show, shows no numbers. */
export function Unavailable({ title, badge = "Not available on this server", children }: { title: string; badge?: string; children: ReactNode }) {
  return (
    <div className="state state-coming" data-testid="unavailable">
      <span className="badge">{badge}</span>
      <p className="state-title">{title}</p>
      <div className="state-body">{children}</div>
    </div>
  );
}

export function InlineAlert({ kind, children }: { kind: "error" | "success" | "info"; children: ReactNode }) {
  return (
    <p className={`inline-alert inline-alert-${kind}`} role={kind === "error" ? "alert" : "status"}>
      {children}
    </p>
  );
}
