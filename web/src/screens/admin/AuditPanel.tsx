import { useCallback, useEffect, useState } from "react";
import { describeError } from "../../api/errors";
import type { AuditEntry, AuditVerification } from "../../api/types";
import { useAuth } from "../../auth/AuthContext";
import { SelectField } from "../../components/Field";
import { Panel } from "../../components/Page";
import { EmptyState, ErrorNotice, InlineAlert, Loading } from "../../components/StateViews";
import { formatDateTime } from "../../lib/format";
import { TableScroll } from "../../components/TableScroll";

const PAGE_SIZES = [10, 25, 50, 100] as const;

interface PageState {
  items: AuditEntry[];
  next: number | null;
  /** Cursors of the pages before this one, so "Newer" can go back. */
  history: Array<number | undefined>;
  cursor: number | undefined;
}

export function AuditPanel() {
  const { api } = useAuth();
  const [page, setPage] = useState<PageState | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const [pageSize, setPageSize] = useState<number>(25);

  const load = useCallback(
    async (cursor: number | undefined, history: Array<number | undefined>) => {
      setLoading(true);
      setError(null);
      try {
        const result = await api.admin.audit(pageSize, cursor);
        setPage({ items: result.items, next: result.next_cursor, history, cursor });
      } catch (err) {
        setError(err);
      } finally {
        setLoading(false);
      }
    },
    [api, pageSize],
  );
  useEffect(() => void load(undefined, []), [load]);

  const older = () => page && page.next !== null && void load(page.next, [...page.history, page.cursor]);
  const newer = () => page && page.history.length > 0 && void load(page.history[page.history.length - 1], page.history.slice(0, -1));

  return (
    <Panel id="audit" title="Audit log" description="Every security-relevant action, hash-chained so tampering shows.">
      <div className="audit-toolbar">
        <VerifyChain />
        <SelectField label="Entries per page" name="page-size" value={String(pageSize)} onChange={(e) => setPageSize(Number(e.target.value))} options={PAGE_SIZES.map((n) => ({ value: String(n), label: String(n) }))} />
      </div>
      {error !== null && <ErrorNotice error={error} onRetry={() => void load(page?.cursor, page?.history ?? [])} />}
      {loading && page === null && <Loading label="Loading audit log…" />}
      {page && page.items.length === 0 && <EmptyState title="The audit log is empty" />}
      {page && page.items.length > 0 && <AuditTable items={page.items} />}
      {page && (
        <nav className="pager" aria-label="Audit log pages">
          <button type="button" className="btn btn-secondary btn-small" onClick={newer} disabled={loading || page.history.length === 0}>
            ← Newer
          </button>
          <span className="muted small" aria-live="polite">
            {page.items.length > 0 ? `Entries ${page.items[page.items.length - 1]?.seq ?? ""}–${page.items[0]?.seq ?? ""}` : "No entries"}
          </span>
          <button type="button" className="btn btn-secondary btn-small" onClick={older} disabled={loading || page.next === null}>
            Older →
          </button>
        </nav>
      )}
    </Panel>
  );
}

function AuditTable({ items }: { items: AuditEntry[] }) {
  return (
    <TableScroll label="Audit entries">
      <table className="table">
        <thead>
          <tr>
            <th scope="col">#</th>
            <th scope="col">When</th>
            <th scope="col">Event</th>
            <th scope="col">IP</th>
            <th scope="col">Details</th>
          </tr>
        </thead>
        <tbody>
          {items.map((entry) => (
            <tr key={entry.seq} data-testid="audit-row">
              <td>{entry.seq}</td>
              <td className="nowrap">{formatDateTime(entry.ts)}</td>
              <td>
                <code>{entry.event}</code>
              </td>
              <td>{entry.ip ?? "—"}</td>
              <td className="details">{Object.keys(entry.details).length > 0 ? JSON.stringify(entry.details) : "—"}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </TableScroll>
  );
}

function VerifyChain() {
  const { api } = useAuth();
  const [result, setResult] = useState<AuditVerification | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const verify = async () => {
    setBusy(true);
    setError(null);
    try {
      setResult(await api.admin.verifyAudit());
    } catch (err) {
      setError(describeError(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="verify">
      <button type="button" className="btn btn-secondary" onClick={() => void verify()} disabled={busy}>
        {busy ? "Verifying…" : "Verify chain"}
      </button>
      {error && <InlineAlert kind="error">{error}</InlineAlert>}
      {result?.ok && <InlineAlert kind="success">Chain OK: all {result.entries} entries verified.</InlineAlert>}
      {result && !result.ok && (
        <InlineAlert kind="error">
          Chain broken at entry {String(result.first_broken?.seq ?? "?")}: {result.first_broken?.reason ?? "unknown reason"} ({result.entries} entries checked).
        </InlineAlert>
      )}
    </div>
  );
}
