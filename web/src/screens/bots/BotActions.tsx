import { useState } from "react";
import { ApiError, describeError } from "../../api/errors";
import type { Bot, BotAction, BotStatus } from "../../api/types";
import { useAuth } from "../../auth/AuthContext";
import { ConfirmButton } from "../../components/ConfirmButton";
import { InlineAlert } from "../../components/StateViews";

const STATUS_CLASS: Record<string, string> = {
  running: "badge-success",
  paused: "badge-warning",
  halted: "badge-danger",
  errored: "badge-danger",
  quarantined: "badge-danger",
  stopped: "",
  created: "badge-accent",
};

export function StatusBadge({ status }: { status: BotStatus | string }) {
  return (
    <span className={`badge ${STATUS_CLASS[status] ?? ""}`} data-testid="bot-status">
      {status}
    </span>
  );
}

/** Which buttons a status offers (the server has the final word and answers 409 otherwise). */
export function actionsFor(status: string): BotAction[] {
  switch (status) {
    case "created":
    case "stopped":
    case "errored":
      return ["start"];
    case "running":
      return ["pause", "stop"];
    case "paused":
      return ["start", "stop"];
    case "halted":
    case "quarantined":
      return ["stop"];
    default:
      return [];
  }
}

/** A 409 from a lifecycle action, in words: "The bot is already running; you can pause or stop it." */
export function describeActionError(err: unknown, action: BotAction): string {
  // Only a refused transition is described from its state; any other 409 (no capital, a
  // shortfall) carries its own sentence, which names the way out.
  if (err instanceof ApiError && err.status === 409 && err.code === "invalid_bot_transition" && typeof err.details === "object" && err.details !== null) {
    const d = err.details as { current_status?: string; allowed?: string[]; hint?: string | null };
    if (d.current_status) {
      const allowed = d.allowed && d.allowed.length > 0 ? ` You can ${d.allowed.join(" or ")} it.` : "";
      const hint = d.hint ? ` ${d.hint}` : "";
      return `Cannot ${action}: the bot is ${d.current_status}.${allowed}${hint}`;
    }
  }
  return describeError(err);
}

const LABEL: Record<BotAction, string> = { start: "Start", pause: "Pause", stop: "Stop" };

export function BotActions({ bot, onChanged, compact = false }: { bot: Bot; onChanged: () => void; compact?: boolean }) {
  const { api } = useAuth();
  const [busy, setBusy] = useState<BotAction | null>(null);
  const [error, setError] = useState<string | null>(null);
  const act = async (action: BotAction) => {
    setBusy(action);
    setError(null);
    try {
      await api.bots.act(bot.id, action);
    } catch (err) {
      setError(describeActionError(err, action));
    } finally {
      setBusy(null);
      onChanged();
    }
  };
  const size = compact ? "btn-small" : "";
  return (
    <div className="bot-actions">
      <div className="row-controls">
        {actionsFor(bot.status).map((action) =>
          action === "stop" ? (
            <ConfirmButton
              key={action}
              label={`Stop ${bot.name}`}
              title={`Stop ${bot.name}?`}
              message={<p>The bot stops trading. Its open orders are cancelled; its position and cash stay with it.</p>}
              confirmText="Stop bot"
              onConfirm={() => act("stop")}
              className={`btn btn-danger ${size}`}
            >
              Stop
            </ConfirmButton>
          ) : (
            <button key={action} type="button" className={`btn ${action === "start" ? "btn-primary" : "btn-secondary"} ${size}`} disabled={busy !== null} onClick={() => void act(action)} aria-label={`${LABEL[action]} ${bot.name}`}>
              {busy === action ? "…" : LABEL[action]}
            </button>
          ),
        )}
      </div>
      {error && <InlineAlert kind="error">{error}</InlineAlert>}
    </div>
  );
}
