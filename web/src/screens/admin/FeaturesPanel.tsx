import { useCallback, useState } from "react";
import { describeError } from "../../api/errors";
import type { FeatureTable } from "../../api/types";
import { useAuth } from "../../auth/AuthContext";
import { Panel } from "../../components/Page";
import { ErrorNotice, InlineAlert, Loading } from "../../components/StateViews";
import { resetFeatures } from "../../lib/features";
import { useResource } from "../../lib/useResource";
import { TableScroll } from "../../components/TableScroll";

const SCOPE_LABEL: Record<string, string> = { all: "Everyone", admin: "Admins", trader: "Traders", viewer: "Viewers" };

/** Show or hide features per role, or for the whole installation; the API enforces it. */
export function FeaturesPanel() {
  const { api } = useAuth();
  const [table, reload] = useResource(useCallback(() => api.admin.features(), [api]));
  const [current, setCurrent] = useState<FeatureTable | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const data = current ?? (table.state === "ready" ? table.data : null);
  const toggle = async (feature: string, scope: string, hidden: boolean) => {
    setBusy(`${feature}:${scope}`);
    setError(null);
    try {
      setCurrent(await api.admin.setFeature(feature, scope, hidden));
      resetFeatures();
    } catch (err) {
      setError(describeError(err));
    } finally {
      setBusy(null);
    }
  };
  return (
    <Panel id="features" title="Features" description="Hide a feature for a role, or for everyone. Hidden features are refused by the API too; the emergency stop and circuit breakers are never hidden. Every change is audited.">
      {table.state === "loading" && <Loading label="Loading features…" />}
      {table.state === "error" && <ErrorNotice error={table.error} onRetry={reload} />}
      {error && <InlineAlert kind="error">{error}</InlineAlert>}
      {data && (
        <TableScroll label="Feature visibility">
          <table className="table" data-testid="features-table">
            <caption className="sr-only">Which roles can see each feature (checked: visible)</caption>
            <thead>
              <tr>
                <th scope="col">Feature</th>
                {data.scopes.map((scope) => <th scope="col" key={scope}>{SCOPE_LABEL[scope] ?? scope}</th>)}
              </tr>
            </thead>
            <tbody>
              {data.features.map((f) => (
                <tr key={f.name}>
                  <th scope="row">
                    {f.label}
                    <div className="muted small">{f.description}</div>
                  </th>
                  {data.scopes.map((scope) => {
                    const hidden = f.hidden_for.includes(scope);
                    return (
                      <td key={scope}>
                        <input
                          type="checkbox"
                          checked={!hidden}
                          disabled={busy !== null}
                          aria-label={`${f.label} visible to ${SCOPE_LABEL[scope] ?? scope}`}
                          onChange={() => void toggle(f.name, scope, !hidden)}
                        />
                      </td>
                    );
                  })}
                </tr>
              ))}
            </tbody>
          </table>
        </TableScroll>
      )}
    </Panel>
  );
}
