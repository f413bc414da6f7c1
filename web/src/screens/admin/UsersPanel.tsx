import { useCallback, useState } from "react";
import { describeError } from "../../api/errors";
import type { Role, User, UserPatch } from "../../api/types";
import { useAuth, useUser } from "../../auth/AuthContext";
import { Panel } from "../../components/Page";
import { EmptyState, ErrorNotice, InlineAlert, Loading } from "../../components/StateViews";
import { formatDateTime } from "../../lib/format";
import { useResource } from "../../lib/useResource";

const ROLES: Role[] = ["admin", "trader", "viewer"];

export function UsersPanel() {
  const { api } = useAuth();
  const [users, reload] = useResource(useCallback(() => api.admin.users(), [api]));
  return (
    <Panel id="users" title="Users">
      {users.state === "loading" && <Loading label="Loading users…" />}
      {users.state === "error" && <ErrorNotice error={users.error} onRetry={reload} />}
      {users.state === "ready" && users.data.length === 0 && <EmptyState title="No users" />}
      {users.state === "ready" && users.data.length > 0 && (
        <ul className="list" aria-label="Users">
          {users.data.map((user) => (
            <UserRow key={user.id} initial={user} />
          ))}
        </ul>
      )}
    </Panel>
  );
}

function UserRow({ initial }: { initial: User }) {
  const { api } = useAuth();
  const me = useUser();
  const [user, setUser] = useState(initial);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const self = user.id === me.id;
  const update = async (patch: UserPatch) => {
    setBusy(true);
    setError(null);
    try {
      setUser(await api.admin.updateUser(user.id, patch));
    } catch (err) {
      setError(describeError(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <li className="list-row list-row-wrap" data-testid="user-row">
      <div className="list-main">
        <span className="list-title">
          {user.email}
          {self && <span className="badge badge-accent">You</span>}
          {!user.is_active && <span className="badge badge-danger">Deactivated</span>}
        </span>
        <span className="muted small">
          joined {formatDateTime(user.created_at)} · 2FA {user.totp_enabled ? "on" : "off"}
        </span>
        {error && <InlineAlert kind="error">{error}</InlineAlert>}
      </div>
      <div className="row-controls">
        <label className="sr-only" htmlFor={`role-${user.id}`}>
          Role of {user.email}
        </label>
        <select id={`role-${user.id}`} value={user.role} disabled={busy || self} onChange={(e) => void update({ role: e.target.value as Role })}>
          {ROLES.map((role) => (
            <option key={role} value={role}>
              {role}
            </option>
          ))}
        </select>
        <button type="button" className={user.is_active ? "btn btn-secondary btn-small" : "btn btn-primary btn-small"} disabled={busy || self} onClick={() => void update({ is_active: !user.is_active })} aria-label={`${user.is_active ? "Deactivate" : "Activate"} ${user.email}`}>
          {user.is_active ? "Deactivate" : "Activate"}
        </button>
      </div>
    </li>
  );
}
