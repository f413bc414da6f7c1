/** Shapes of the Amarktai API (see /openapi.json). Timestamps are ISO-8601 strings. */

export type Role = "admin" | "trader" | "viewer";

export const EXCHANGES = ["luno", "valr", "ovex", "binance", "kucoin", "bybit"] as const;
export type Exchange = (typeof EXCHANGES)[number];

export interface User {
  id: string;
  email: string;
  role: Role;
  is_active: boolean;
  totp_enabled: boolean;
  created_at: string;
}

export interface Tokens {
  access_token: string;
  refresh_token: string;
  token_type?: string;
  expires_in: number;
  session_id: string;
}

export interface Credentials {
  email: string;
  password: string;
  otp?: string;
}

export interface Session {
  id: string;
  created_at: string;
  last_used_at: string;
  expires_at: string;
  ip: string | null;
  user_agent: string | null;
  current?: boolean;
}

export interface Enrolment {
  secret: string;
  otpauth_uri: string;
  qr_png_base64: string;
}

export interface RecoveryCodes {
  recovery_codes: string[];
}

export interface ApiKey {
  id: string;
  exchange: string;
  label: string;
  key_hint: string;
  created_at: string;
}

export interface ApiKeyInput {
  exchange: Exchange;
  label: string;
  api_key: string;
  api_secret: string;
  passphrase?: string;
}

export interface UserPatch {
  role?: Role;
  is_active?: boolean;
}

export interface AuditEntry {
  seq: number;
  ts: string;
  event: string;
  user_id: string | null;
  actor_id: string | null;
  ip: string | null;
  details: Record<string, unknown>;
  hash: string;
}

export interface AuditPage {
  items: AuditEntry[];
  next_cursor: number | null;
}

export interface AuditVerification {
  ok: boolean;
  entries: number;
  first_broken: { seq: number | string; reason: string } | null;
}

/* ---------- Trading: strategies, markets, bots ---------- */

/** Decimals travel as strings. */
export type Decimal = string;

export interface StrategyParam {
  name: string;
  type: "int" | "float" | "str" | "bool" | string;
  default: number | string | boolean | null;
  min: number | null;
  max: number | null;
  description: string;
  choices: Array<string | number> | null;
}

export interface Strategy {
  name: string;
  description: string;
  vectorised?: boolean;
  params: StrategyParam[];
}

export interface Instrument {
  exchange: string;
  symbol: string;
  base: string;
  quote: string;
  price_step: Decimal;
  qty_step: Decimal;
  min_qty: Decimal;
  min_notional: Decimal;
  maker_fee: Decimal;
  taker_fee: Decimal;
  last_price: Decimal | null;
}

export type BotStatus = "created" | "running" | "paused" | "stopped" | "halted" | "quarantined" | "errored";
export type BotMode = "paper_public" | "paper_verified" | "live";
export type BotAction = "start" | "pause" | "stop";

export interface Bot {
  id: string;
  name: string;
  strategy: string;
  params: Record<string, unknown>;
  exchange: string;
  symbol: string;
  timeframe_s: number;
  mode: BotMode;
  status: BotStatus;
  status_reason: string | null;
  risk: Record<string, unknown>;
  created_at: string;
  updated_at: string;
  cash?: Decimal | null;
  position_qty?: Decimal | null;
  equity?: Decimal | null;
  last_price?: Decimal | null;
}

export interface BotInput {
  name: string;
  strategy: string;
  params: Record<string, number | string | boolean>;
  exchange: string;
  symbol: string;
  timeframe_s: number;
  mode: BotMode;
  risk?: Record<string, unknown>;
  allocation?: string;
}

export interface RiskCheck {
  name: string;
  passed: boolean;
  detail: string;
}

export interface Decision {
  id: string;
  bot_id: string;
  ts: string;
  rule: string;
  signal: number | null;
  outcome: string;
  trace: {
    inputs?: Record<string, unknown>;
    indicators?: Record<string, unknown>;
    risk?: { outcome?: string; checks?: RiskCheck[]; note?: string } & Record<string, unknown>;
    execution?: Record<string, unknown>;
  } & Record<string, unknown>;
  order_id: string | null;
}

export interface CursorPage<T> {
  items: T[];
  next_cursor: string | null;
}

export type Side = "buy" | "sell";

export interface Order {
  id: string;
  bot_id: string | null;
  client_order_id?: string;
  symbol: string;
  side: Side;
  type: string;
  qty: Decimal;
  limit_price: Decimal | null;
  stop_price?: Decimal | null;
  /** A stop whose stop price has traded (it now acts as a market or limit order). */
  triggered?: boolean;
  status: string;
  filled_qty: Decimal;
  avg_price: Decimal | null;
  fees?: Decimal;
  reason?: string | null;
  created_at: string;
  updated_at?: string;
}

export interface Fill {
  id: string;
  order_id: string;
  bot_id: string | null;
  ts: string;
  symbol: string;
  side: Side;
  price: Decimal;
  qty: Decimal;
  fee: Decimal;
  fee_asset?: string;
  liquidity?: string;
  realised_pnl?: Decimal | null;
}

/* ---------- Wallet and ledger ---------- */

export interface CapitalLine {
  free: Decimal;
  allocated_cash: Decimal;
  invested_cost: Decimal;
  allocated: Decimal;
  total: Decimal;
}
export type Capital = Record<string, CapitalLine>;

export interface Balances {
  as_of: string | null;
  /** account ("bot:<id>:cash", "user:<id>:cash", …) → asset → amount */
  balances: Record<string, Record<string, Decimal>>;
}

export interface Posting {
  account: string;
  asset: string;
  amount: Decimal;
  balance: Decimal;
}

export interface LedgerEntry {
  id: string;
  seq: number;
  ts: string;
  kind: string;
  bot_id: string | null;
  description: string;
  reverses_id: string | null;
  ref: string | null;
  hash: string;
  postings: Posting[];
}

/* ---------- Analytics ---------- */

export interface EquityPoint {
  ts: string;
  equity: Decimal;
  unrealised_pnl?: Decimal;
  realised_pnl?: Decimal;
  fees?: Decimal;
  flow?: Decimal;
  index?: number;
}

export interface EquitySeries {
  bot_id: string;
  quote: string;
  points: EquityPoint[];
}

export interface Metrics {
  total_return: number | null;
  max_drawdown: number | null;
  sharpe: number | null;
  sortino?: number | null;
  volatility?: number | null;
  cagr?: number | null;
  /** closed round trips (a position opened and closed) */
  n_trades: number | null;
  win_rate: number | null;
  profit_factor?: number | null;
  /** why an annualised figure is null, e.g. "not enough history: 55 s; …" */
  unavailable?: Record<string, string>;
  [key: string]: unknown;
}

export interface PerformanceFigures {
  quote: string;
  as_of: string;
  equity: Decimal;
  realised_pnl: Decimal;
  unrealised_pnl: Decimal;
  fees: Decimal;
  net_pnl: Decimal;
  net_flows: Decimal;
  /** every fill, closed round trip or not */
  n_fills?: number;
  metrics: Metrics;
}

export interface BotPerformance extends PerformanceFigures {
  bot_id: string;
  name: string;
  status?: string;
}

export interface Performance {
  user: PerformanceFigures;
  bots: BotPerformance[];
}

export interface Position {
  bot_id: string | null;
  symbol: string;
  qty: Decimal;
  avg_cost: Decimal | null;
  cost?: Decimal;
  last_price: Decimal | null;
  unrealised_pnl: Decimal | null;
}

export interface Candle {
  ts: string;
  open: Decimal;
  high: Decimal;
  low: Decimal;
  close: Decimal;
  volume: Decimal;
}

/* ---------- Risk (shapes read loosely: the risk API is young) ---------- */

export type Loose = Record<string, unknown>;

export type Band = "green" | "amber" | "red";

export interface VarResult {
  method: string;
  confidence: number;
  horizon_days: number;
  portfolio_value: number;
  var_amount: number;
  var_percent: number;
  cvar_amount: number;
  cvar_percent: number;
  band: Band;
  sentence: string;
  observations: number;
  note: string | null;
  /** The method whose figures these are (historical when Cornish-Fisher fell back). */
  method_used?: string;
  /** Why `method` was not used; null when it was. */
  fallback_reason?: string | null;
  /** The model implied a loss above a long-only portfolio's value: capped at 100%. */
  capped?: boolean;
  scope: string;
  holdings?: Array<{ asset: string; qty: Decimal; price: Decimal; value: Decimal }>;
}

export interface TestStat {
  statistic: number;
  p_value: number;
  degrees_of_freedom: number;
  critical_value: number;
  rejected: boolean;
}

export interface VarBacktest {
  method: string;
  confidence: number;
  window: number;
  observations: number;
  breaches: number;
  breach_rate: number;
  expected_breaches: number;
  kupiec: TestStat;
  christoffersen: { test: TestStat; n00?: number; n01?: number; n10?: number; n11?: number };
  conditional_coverage?: TestStat;
  verdict: string;
  /** Forecasts where Cornish-Fisher was invalid and the window's historical VaR was used. */
  fallback_forecasts?: number;
  note?: string | null;
}

export interface MonteCarlo {
  method: string;
  capital: number;
  horizon_days: number;
  simulations: number;
  median: number;
  p5: number;
  p95: number;
  prob_profit: number;
  prob_loss: number;
  loss_threshold_pct?: number;
  prob_loss_more_than_x: number;
  median_max_drawdown_pct?: number;
  histogram: { edges: number[]; counts: number[] };
  fan_chart: { days: number[]; percentiles: number[]; values: number[][] };
  note: string | null;
}

export interface StressResult {
  scenario: string;
  description: string;
  total_value: number;
  total_pnl: number;
  total_pnl_percent: number;
  stressed_value: number;
  holdings: Array<{ asset: string; value: number; shock_pct: number; pnl: number; stressed_value: number; source: string }>;
  missing: string[];
}

export interface BreakerLevel {
  scope: string;
  owner_id: string;
  limits: Record<string, number | string | null>;
  checks: Array<{ name?: string; breached?: boolean; tripped?: boolean; value?: unknown; limit?: unknown; detail?: string } & Record<string, unknown>>;
}

export interface Breakers {
  levels: BreakerLevel[];
  active: Array<Record<string, unknown>>;
}

export interface EmergencyStopReport {
  scope: string;
  event: unknown;
  bots_halted: string[];
  orders_cancelled: number | string[];
  flattened?: unknown;
  not_flattened?: unknown;
  elapsed_ms: number;
}

/** GET/PUT /api/v1/admin/features: every feature an admin can hide, and for whom it is. */
export interface FeatureTable {
  scopes: string[];
  features: { name: string; label: string; description: string; hidden_for: string[] }[];
}
