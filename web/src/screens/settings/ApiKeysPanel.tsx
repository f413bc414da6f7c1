import { useCallback, useState, type FormEvent } from "react";
import { describeError } from "../../api/errors";
import { EXCHANGES, type ApiKey, type Exchange } from "../../api/types";
import { useAuth } from "../../auth/AuthContext";
import { ConfirmButton } from "../../components/ConfirmButton";
import { Field, SelectField } from "../../components/Field";
import { Panel } from "../../components/Page";
import { EmptyState, ErrorNotice, InlineAlert, Loading } from "../../components/StateViews";
import { exchangeName, NEEDS_PASSPHRASE } from "../../lib/exchanges";
import { formatDateTime } from "../../lib/format";
import { useResource } from "../../lib/useResource";

export function ApiKeysPanel() {
  const { api } = useAuth();
  const [keys, reload] = useResource(useCallback(() => api.apiKeys.list(), [api]));
  const [adding, setAdding] = useState(false);
  return (
    <Panel id="api-keys" title="Exchange API keys" description="Keys are encrypted on the server and never shown again; only the last characters are displayed. Use trade-only keys without withdrawal rights.">
      {keys.state === "loading" && <Loading label="Loading API keys…" />}
      {keys.state === "error" && <ErrorNotice error={keys.error} onRetry={reload} />}
      {keys.state === "ready" && <KeyList keys={keys.data} onChange={reload} />}
      {adding ? (
        <AddKeyForm
          onDone={() => {
            setAdding(false);
            reload();
          }}
          onCancel={() => setAdding(false)}
        />
      ) : (
        <button type="button" className="btn btn-primary" onClick={() => setAdding(true)}>
          Add API key
        </button>
      )}
    </Panel>
  );
}

function KeyList({ keys, onChange }: { keys: ApiKey[]; onChange: () => void }) {
  const { api } = useAuth();
  const [error, setError] = useState<string | null>(null);
  if (keys.length === 0) return <EmptyState title="No exchange connected yet">Add a key from Luno, VALR, OVEX, Binance, KuCoin or Bybit to trade live.</EmptyState>;
  const remove = async (key: ApiKey) => {
    try {
      await api.apiKeys.remove(key.id);
      onChange();
    } catch (err) {
      setError(describeError(err));
    }
  };
  return (
    <>
      {error && <InlineAlert kind="error">{error}</InlineAlert>}
      <ul className="list" aria-label="API keys">
        {keys.map((key) => (
          <li key={key.id} className="list-row" data-testid="api-key-row">
            <div className="list-main">
              <span className="list-title">
                {exchangeName(key.exchange)}
                {key.label && <span className="muted"> · {key.label}</span>}
              </span>
              <span className="muted small">
                <code className="key-hint">{key.key_hint}</code> · added {formatDateTime(key.created_at)}
              </span>
            </div>
            <ConfirmButton
              label={`Delete ${exchangeName(key.exchange)} key ${key.label || key.key_hint}`}
              title="Delete this API key?"
              message={<p>Bots using the {exchangeName(key.exchange)} key ending {key.key_hint} will stop trading live.</p>}
              confirmText="Delete key"
              onConfirm={() => remove(key)}
              className="btn btn-danger btn-small"
            >
              Delete
            </ConfirmButton>
          </li>
        ))}
      </ul>
    </>
  );
}

function AddKeyForm({ onDone, onCancel }: { onDone: () => void; onCancel: () => void }) {
  const { api } = useAuth();
  const [exchange, setExchange] = useState<Exchange>("luno");
  const [label, setLabel] = useState("");
  const [apiKey, setApiKey] = useState("");
  const [secret, setSecret] = useState("");
  const [passphrase, setPassphrase] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const input = { exchange, label: label.trim(), api_key: apiKey.trim(), api_secret: secret.trim() };
      await api.apiKeys.create(passphrase ? { ...input, passphrase } : input);
      onDone();
    } catch (err) {
      setError(describeError(err));
      setBusy(false);
    }
  };
  return (
    <form className="form subform" onSubmit={(e) => void submit(e)} aria-label="Add API key">
      <SelectField label="Exchange" name="exchange" value={exchange} onChange={(e) => setExchange(e.target.value as Exchange)} options={EXCHANGES.map((value) => ({ value, label: exchangeName(value) }))} />
      <Field label="Label (optional)" name="label" value={label} onChange={(e) => setLabel(e.target.value)} maxLength={64} placeholder="e.g. Main account" />
      <Field label="API key" name="api_key" value={apiKey} onChange={(e) => setApiKey(e.target.value)} autoComplete="off" spellCheck={false} required />
      <Field label="API secret" name="api_secret" type="password" value={secret} onChange={(e) => setSecret(e.target.value)} autoComplete="off" required />
      {NEEDS_PASSPHRASE.has(exchange) && (
        <Field label="Passphrase" name="passphrase" type="password" value={passphrase} onChange={(e) => setPassphrase(e.target.value)} autoComplete="off" required />
      )}
      {error && <InlineAlert kind="error">{error}</InlineAlert>}
      <div className="button-row">
        <button type="submit" className="btn btn-primary" disabled={busy}>
          {busy ? "Saving…" : "Save key"}
        </button>
        <button type="button" className="btn btn-ghost" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
