import { useCallback, useMemo, useState, type ComponentProps, type FormEvent } from "react";
import { ApiError, describeError } from "../../api/errors";
import type { Bot, BotMode, Instrument, Strategy } from "../../api/types";
import { useAuth } from "../../auth/AuthContext";
import { Field, SelectField } from "../../components/Field";
import { Page, Panel } from "../../components/Page";
import { EmptyState, ErrorNotice, InlineAlert, Loading } from "../../components/StateViews";
import { formatAmount, formatZAR } from "../../lib/format";
import { defaultValues, inputAttributes, parseAmount, toParams, validateParams, type ParamValues } from "../../lib/paramSchema";
import { useResource } from "../../lib/useResource";
import { useLiveReload } from "../../live/LiveContext";
import { Link, navigate } from "../../router/hashRouter";
import { BotActions, StatusBadge } from "./BotActions";
import { RiskRuleFields } from "../../components/RiskRuleFields";
import { EXIT_RULES, mergeExits, rulesToForm, validateRules, type FormValues } from "../../lib/riskSettings";

export function Bots() {
  const { api } = useAuth();
  const [bots, reload] = useResource(useCallback(() => api.bots.list(), [api]));
  const [creating, setCreating] = useState(false);
  useLiveReload(["bot_status", "fill"], reload);
  return (
    <Page
      title="Bots"
      intro="Create, start, pause and inspect trading bots."
      actions={
        !creating && (
          <button type="button" className="btn btn-primary" onClick={() => setCreating(true)}>
            New bot
          </button>
        )
      }
    >
      {creating && (
        <CreateBotForm
          onCancel={() => setCreating(false)}
          onCreated={(bot) => {
            setCreating(false);
            reload();
            navigate(`/bots/${bot.id}`);
          }}
        />
      )}
      <Panel title="Your bots">
        {bots.state === "loading" && <Loading label="Loading bots…" />}
        {bots.state === "error" && <ErrorNotice error={bots.error} onRetry={reload} />}
        {bots.state === "ready" && bots.data.length === 0 && (
          <EmptyState title="No bots yet" action={!creating && <button type="button" className="btn btn-primary" onClick={() => setCreating(true)}>Create your first bot</button>}>
            A bot trades one market with one strategy. Start with a paper bot: it trades simulated money against real prices.
          </EmptyState>
        )}
        {bots.state === "ready" && bots.data.length > 0 && (
          <ul className="list" aria-label="Bots">
            {bots.data.map((bot) => (
              <BotRow key={bot.id} bot={bot} onChanged={reload} />
            ))}
          </ul>
        )}
      </Panel>
    </Page>
  );
}

function BotRow({ bot, onChanged }: { bot: Bot; onChanged: () => void }) {
  const base = bot.symbol.split("/")[0] ?? "";
  return (
    <li className="list-row list-row-wrap" data-testid="bot-row">
      <div className="list-main">
        <span className="list-title">
          <Link to={`/bots/${bot.id}`}>{bot.name}</Link> <StatusBadge status={bot.status} />
          {bot.mode !== "live" && <span className="badge">paper</span>}
        </span>
        <span className="muted small">
          {bot.strategy} · {bot.symbol} · {bot.timeframe_s} s bars · equity {formatZAR(bot.equity ?? NaN)}
          {bot.position_qty && Number(bot.position_qty) !== 0 ? ` · holds ${formatAmount(bot.position_qty, base)}` : ""}
        </span>
        {bot.status_reason && <span className="small warning-text">{bot.status_reason}</span>}
      </div>
      <BotActions bot={bot} onChanged={onChanged} compact />
    </li>
  );
}

const TIMEFRAMES = [
  { value: "5", label: "5 seconds" },
  { value: "60", label: "1 minute" },
  { value: "300", label: "5 minutes" },
  { value: "900", label: "15 minutes" },
  { value: "3600", label: "1 hour" },
  { value: "86400", label: "1 day" },
];

function CreateBotForm({ onCancel, onCreated }: { onCancel: () => void; onCreated: (bot: Bot) => void }) {
  const { api } = useAuth();
  const [meta, reload] = useResource(
    useCallback(async () => {
      const [strategies, instruments, capital] = await Promise.all([api.strategies.list(), api.markets.instruments("sim"), api.wallet.capital()]);
      return { strategies, instruments, free: capital.ZAR?.free ?? "0" };
    }, [api]),
  );
  return (
    <Panel title="New bot" description="Paper bots trade simulated rand on the built-in market; nothing leaves your account.">
      {meta.state === "loading" && <Loading label="Loading strategies and markets…" />}
      {meta.state === "error" && <ErrorNotice error={meta.error} onRetry={reload} />}
      {meta.state === "ready" && (
        <BotForm strategies={meta.data.strategies} instruments={meta.data.instruments} free={meta.data.free} onCancel={onCancel} onCreated={onCreated} />
      )}
    </Panel>
  );
}

function BotForm({ strategies, instruments, free, onCancel, onCreated }: { strategies: Strategy[]; instruments: Instrument[]; free: string; onCancel: () => void; onCreated: (bot: Bot) => void }) {
  const { api } = useAuth();
  const [strategyName, setStrategyName] = useState(strategies.find((s) => s.name === "dca")?.name ?? strategies[0]?.name ?? "");
  const strategy = useMemo(() => strategies.find((s) => s.name === strategyName), [strategies, strategyName]);
  const [values, setValues] = useState<ParamValues>(() => defaultValues(strategy?.params ?? []));
  const [name, setName] = useState("");
  const [symbol, setSymbol] = useState(instruments[0]?.symbol ?? "");
  const [timeframe, setTimeframe] = useState("60");
  const [mode, setMode] = useState<BotMode>("paper_public");
  const [allocation, setAllocation] = useState("");
  const [exits, setExits] = useState<FormValues>(() => rulesToForm(EXIT_RULES, null));
  const exitCheck = validateRules(EXIT_RULES, exits);
  const [touched, setTouched] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const errors = strategy ? validateParams(strategy.params, values) : {};
  const allocationValue = allocation.trim() === "" ? null : parseAmount(allocation);
  const allocationError =
    allocation.trim() !== "" && allocationValue === null ? "Enter a positive amount in rand." : allocationValue !== null && Number(allocationValue) > Number(free) ? `More than your free capital (${formatZAR(free)}). Deposit paper funds in the Wallet first.` : null;
  const nameError = name.trim() === "" ? "Give the bot a name." : null;
  const valid = Object.keys(errors).length === 0 && Object.keys(exitCheck.errors).length === 0 && !allocationError && !nameError && strategy !== undefined && symbol !== "";

  const chooseStrategy = (next: string) => {
    setStrategyName(next);
    setValues(defaultValues(strategies.find((s) => s.name === next)?.params ?? []));
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setTouched(true);
    if (!valid || !strategy) return;
    setBusy(true);
    setError(null);
    try {
      const bot = await api.bots.create({
        name: name.trim(),
        strategy: strategy.name,
        params: toParams(strategy.params, values),
        exchange: "sim",
        symbol,
        timeframe_s: Number(timeframe),
        mode,
        risk: mergeExits({}, exitCheck.out),
        ...(allocationValue ? { allocation: allocationValue } : {}),
      });
      onCreated(bot);
    } catch (err) {
      const param = err instanceof ApiError && typeof err.details === "object" && err.details !== null ? (err.details as { param?: string }).param : undefined;
      setError(param ? `${describeError(err)} (parameter ${param})` : describeError(err));
    } finally {
      setBusy(false);
    }
  };

  const show = (message: string | null | undefined) => (touched && message ? message : undefined);

  return (
    <form className="form" onSubmit={(e) => void submit(e)} aria-label="New bot" noValidate>
      {error && <InlineAlert kind="error">{error}</InlineAlert>}
      <ValidatedField label="Name" value={name} onChange={setName} error={show(nameError)} placeholder="e.g. DCA Bitcoin" autoComplete="off" />
      <div className="form-grid">
        <SelectField label="Strategy" value={strategyName} onChange={(e) => chooseStrategy(e.target.value)} options={strategies.map((s) => ({ value: s.name, label: s.name }))} />
        <SelectField
          label="Market"
          value={symbol}
          onChange={(e) => setSymbol(e.target.value)}
          options={instruments.map((i) => ({ value: i.symbol, label: `${i.symbol}${i.last_price ? ` · ${formatZAR(i.last_price)}` : ""}` }))}
        />
        <SelectField label="Bar length" value={timeframe} onChange={(e) => setTimeframe(e.target.value)} options={TIMEFRAMES} />
        <SelectField
          label="Mode"
          value={mode}
          onChange={(e) => setMode(e.target.value as BotMode)}
          options={[
            { value: "paper_public", label: "Paper (public prices)" },
            { value: "paper_verified", label: "Paper (verified track record)" },
          ]}
        />
      </div>
      {strategy && <p className="muted small">{strategy.description}</p>}
      {strategy && strategy.params.length > 0 && (
        <fieldset className="fieldset">
          <legend>Strategy parameters</legend>
          <div className="form-grid">
            {strategy.params.map((p) =>
              p.choices && p.choices.length > 0 ? (
                <SelectField key={p.name} label={p.name} value={values[p.name] ?? ""} onChange={(e) => setValues({ ...values, [p.name]: e.target.value })} options={p.choices.map((c) => ({ value: String(c), label: String(c) }))} />
              ) : (
                <ValidatedField
                  key={p.name}
                  label={p.name}
                  value={values[p.name] ?? ""}
                  onChange={(v) => setValues({ ...values, [p.name]: v })}
                  error={touched || (values[p.name] ?? "") !== String(p.default ?? "") ? errors[p.name] : undefined}
                  hint={`${p.description}${p.min !== null || p.max !== null ? ` (${p.min ?? "…"} to ${p.max ?? "…"})` : ""}`}
                  {...inputAttributes(p)}
                />
              ),
            )}
          </div>
        </fieldset>
      )}
      <fieldset className="fieldset">
        <legend>Exits (optional)</legend>
        <RiskRuleFields rules={EXIT_RULES} values={exits} errors={exitCheck.errors} onChange={setExits} />
      </fieldset>
      <ValidatedField
        label="Allocation (ZAR)"
        value={allocation}
        onChange={setAllocation}
        error={allocationError ?? undefined}
        hint={`Capital moved from your free balance (${formatZAR(free)}) to the bot. Optional: allocate later.`}
        inputMode="decimal"
        autoComplete="off"
      />
      <div className="button-row">
        <button type="submit" className="btn btn-primary" disabled={busy}>
          {busy ? "Creating…" : "Create bot"}
        </button>
        <button type="button" className="btn btn-secondary" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}

interface ValidatedFieldProps extends Omit<ComponentProps<typeof Field>, "onChange" | "value" | "hint"> {
  value: string;
  onChange: (value: string) => void;
  error?: string | undefined;
  hint?: string;
}

/** A field that shows its validation message (linked by aria-describedby, aria-invalid). */
function ValidatedField({ value, onChange, error, hint, ...rest }: ValidatedFieldProps) {
  const message = error ?? hint;
  return (
    <Field
      {...rest}
      value={value}
      onChange={(e) => onChange(e.target.value)}
      aria-invalid={error ? true : undefined}
      {...(message ? { hint: error ? <span className="field-error">{error}</span> : message } : {})}
    />
  );
}
