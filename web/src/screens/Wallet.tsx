import { useCallback, useState, type FormEvent } from "react";
import { describeError } from "../api/errors";
import { useAuth } from "../auth/AuthContext";
import { Field } from "../components/Field";
import { Page, Panel } from "../components/Page";
import { EmptyState, ErrorNotice, InlineAlert, Loading } from "../components/StateViews";
import { formatAmount, formatDateTime, formatZAR } from "../lib/format";
import { parseAmount } from "../lib/paramSchema";
import { featureOn, useFeatures } from "../lib/features";
import { useResource } from "../lib/useResource";
import { useLiveReload } from "../live/LiveContext";
import { Link } from "../router/hashRouter";
import { TableScroll } from "../components/TableScroll";

export function Wallet() {
  const { api } = useAuth();
  const [data, reload] = useResource(
    useCallback(async () => {
      const [capital, bots] = await Promise.all([api.wallet.capital(), api.bots.list()]);
      return { capital, bots };
    }, [api]),
  );
  useLiveReload(["fill", "bot_status"], reload, undefined, 3000);
  const zar = data.state === "ready" ? data.data.capital.ZAR : undefined;
  return (
    <Page title="Wallet" intro="Balances per exchange and per bot, from the double-entry ledger.">
      <div className="grid">
        <Panel title="Capital" reserve={[240, 285]}>
          {data.state === "loading" && <Loading />}
          {data.state === "error" && <ErrorNotice error={data.error} onRetry={reload} />}
          {data.state === "ready" && !zar && <EmptyState title="No funds yet">Deposit paper rand to start trading on paper.</EmptyState>}
          {zar && (
            <>
              <dl className="stats">
                <div><dt>Total</dt><dd data-testid="capital-total">{formatZAR(zar.total)}</dd></div>
                <div><dt>Free</dt><dd data-testid="capital-free">{formatZAR(zar.free)}</dd></div>
                <div><dt>Allocated to bots</dt><dd>{formatZAR(zar.allocated)}</dd></div>
                <div><dt>of which invested</dt><dd>{formatZAR(zar.invested_cost)}</dd></div>
              </dl>
              <AllocationBar free={Number(zar.free)} allocated={Number(zar.allocated)} />
            </>
          )}
        </Panel>
        <FundsPanel onDone={reload} />
      </div>
      <Panel title="Per exchange and bot" reserve={[200, 265]} description="Paper bots trade on the built-in sim exchange.">
        {data.state === "ready" && data.data.bots.length === 0 && <EmptyState title="No bots hold funds">Allocate capital when you create a bot.</EmptyState>}
        {data.state === "ready" && data.data.bots.length > 0 && (
          <TableScroll label="Funds per bot">
            <table className="table">
              <thead><tr><th>Bot</th><th>Exchange</th><th className="num">Cash</th><th className="num">Position</th><th className="num">Equity</th></tr></thead>
              <tbody>
                {data.data.bots.map((b) => (
                  <tr key={b.id} data-testid="wallet-bot-row">
                    <td><Link to={`/bots/${b.id}`}>{b.name}</Link></td>
                    <td>{b.exchange}</td>
                    <td className="num">{formatZAR(b.cash ?? NaN)}</td>
                    <td className="num">{formatAmount(b.position_qty ?? 0, b.symbol.split("/")[0] ?? "")}</td>
                    <td className="num">{formatZAR(b.equity ?? NaN)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableScroll>
        )}
      </Panel>
      <LedgerPanel />
    </Page>
  );
}

function AllocationBar({ free, allocated }: { free: number; allocated: number }) {
  const total = free + allocated;
  if (!(total > 0)) return null;
  const pct = Math.round((allocated / total) * 100);
  return (
    <div className="alloc-bar" role="img" aria-label={`${pct}% allocated to bots, ${100 - pct}% free`}>
      <span style={{ width: `${pct}%` }} />
    </div>
  );
}

function FundsPanel({ onDone }: { onDone: () => void }) {
  const { api } = useAuth();
  const [amount, setAmount] = useState("");
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<{ kind: "error" | "success"; text: string } | null>(null);
  const run = async (event: FormEvent, kind: "deposit" | "withdraw") => {
    event.preventDefault();
    const value = parseAmount(amount);
    if (!value) {
      setMessage({ kind: "error", text: "Enter a positive amount in rand." });
      return;
    }
    setBusy(true);
    setMessage(null);
    try {
      await (kind === "deposit" ? api.wallet.deposit("ZAR", value) : api.wallet.withdraw("ZAR", value));
      setMessage({ kind: "success", text: `${kind === "deposit" ? "Deposited" : "Withdrew"} ${formatZAR(value)} (paper).` });
      setAmount("");
      onDone();
    } catch (err) {
      setMessage({ kind: "error", text: describeError(err) });
    } finally {
      setBusy(false);
    }
  };
  return (
    <Panel title="Paper funds" description="Add or remove simulated rand. Live balances come from your exchanges.">
      {message && <InlineAlert kind={message.kind}>{message.text}</InlineAlert>}
      <form className="form" onSubmit={(e) => void run(e, "deposit")} aria-label="Paper funds">
        <Field label="Amount (ZAR)" value={amount} onChange={(e) => setAmount(e.target.value)} inputMode="decimal" autoComplete="off" placeholder="10 000" />
        <div className="button-row">
          <button type="submit" className="btn btn-primary" disabled={busy}>Deposit</button>
          <button type="button" className="btn btn-secondary" disabled={busy} onClick={(e) => void run(e, "withdraw")}>Withdraw</button>
        </div>
      </form>
    </Panel>
  );
}

function LedgerPanel() {
  const { api } = useAuth();
  const [limit, setLimit] = useState(10);
  const [cursors, setCursors] = useState<Array<string | undefined>>([undefined]);
  const cursor = cursors[cursors.length - 1];
  const [page, reload] = useResource(useCallback(() => api.wallet.ledger({ limit, ...(cursor ? { cursor } : {}) }), [api, limit, cursor]));
  const [verify, setVerify] = useState<string | null>(null);
  const [exportError, setExportError] = useState<string | null>(null);
  useLiveReload(["fill"], () => cursors.length === 1 && reload(), undefined, 3000);
  const download = async (kind: "trades" | "ledger") => {
    setExportError(null);
    try {
      const text = await api.wallet.exportCsv(kind);
      const url = URL.createObjectURL(new Blob([typeof text === "string" ? text : JSON.stringify(text)], { type: "text/csv" }));
      const a = document.createElement("a");
      a.href = url;
      a.download = `amarktai-${kind}.csv`;
      a.click();
      setTimeout(() => URL.revokeObjectURL(url), 1000);
    } catch (err) {
      setExportError(describeError(err));
    }
  };
  const exportsOn = featureOn(useFeatures(), "exports");
  const check = async () => {
    try {
      const r = await api.wallet.verifyLedger();
      if (!r.ok) {
        setVerify(r.first_broken ? `The ledger chain is broken at entry ${r.first_broken.entry_id}: ${r.first_broken.reason}.` : "The ledger chain is broken: contact your administrator.");
      } else {
        setVerify(r.entries != null ? `Ledger OK: all ${r.entries} entries verified.` : "Ledger OK: the chain is intact.");
      }
    } catch (err) {
      setVerify(describeError(err));
    }
  };
  return (
    <Panel title="Ledger" description="Every movement of money, hash-chained. Newest first.">
      <div className="toolbar">
        <label className="inline-label">
          Entries per page{" "}
          <select value={limit} onChange={(e) => { setLimit(Number(e.target.value)); setCursors([undefined]); }}>
            {[10, 25, 50].map((n) => <option key={n} value={n}>{n}</option>)}
          </select>
        </label>
        {exportsOn && <button type="button" className="btn btn-secondary btn-small" onClick={() => void download("trades")}>Export trades (CSV)</button>}
        {exportsOn && <button type="button" className="btn btn-secondary btn-small" onClick={() => void download("ledger")}>Export ledger (CSV)</button>}
        <button type="button" className="btn btn-ghost btn-small" onClick={() => void check()}>Verify chain</button>
      </div>
      {verify && <InlineAlert kind="info">{verify}</InlineAlert>}
      {exportError && <InlineAlert kind="error">{exportError}</InlineAlert>}
      {page.state === "loading" && <Loading label="Loading ledger…" />}
      {page.state === "error" && <ErrorNotice error={page.error} onRetry={reload} />}
      {page.state === "ready" && page.data.items.length === 0 && <EmptyState title="No ledger entries yet">Deposits, allocations and fills appear here.</EmptyState>}
      {page.state === "ready" && page.data.items.length > 0 && (
        <TableScroll label="Ledger entries">
          <table className="table">
            <thead><tr><th>#</th><th>When</th><th>Kind</th><th>Description</th><th className="num">Cash movement</th></tr></thead>
            <tbody>
              {page.data.items.map((e) => {
                const cash = e.postings.filter((p) => p.asset === "ZAR" && p.account.endsWith(":cash"));
                return (
                  <tr key={e.id} data-testid="ledger-row">
                    <td>{e.seq}</td>
                    <td className="nowrap">{formatDateTime(e.ts)}</td>
                    <td><span className="badge">{e.kind}</span></td>
                    <td>{e.description}</td>
                    <td className="num">{cash.map((p) => <div key={p.account + p.amount}>{formatZAR(p.amount)}</div>)}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </TableScroll>
      )}
      <div className="button-row">
        <button type="button" className="btn btn-secondary btn-small" disabled={cursors.length === 1} onClick={() => setCursors((c) => c.slice(0, -1))}>← Newer</button>
        <button type="button" className="btn btn-secondary btn-small" disabled={page.state !== "ready" || !page.data.next_cursor} onClick={() => page.state === "ready" && page.data.next_cursor && setCursors((c) => [...c, page.data.next_cursor ?? undefined])}>Older →</button>
      </div>
    </Panel>
  );
}
