import type { ApiClient } from "./client";
import type {
  ApiKey,
  ApiKeyInput,
  AuditPage,
  AuditVerification,
  Balances,
  Bot,
  BotAction,
  BotInput,
  BotPerformance,
  Candle,
  Capital,
  Credentials,
  CursorPage,
  Decision,
  EquitySeries,
  FeatureTable,
  Fill,
  Instrument,
  LedgerEntry,
  Breakers,
  EmergencyStopReport,
  MonteCarlo,
  StressResult,
  VarBacktest,
  VarResult,
  Order,
  Performance,
  Position,
  Strategy,
  Enrolment,
  RecoveryCodes,
  Session,
  Tokens,
  User,
  UserPatch,
} from "./types";

const V1 = "/api/v1";

/** One typed function per endpoint, grouped by area. */
export function endpoints(client: ApiClient) {
  return {
    auth: {
      register: (email: string, password: string) =>
        client.post<User>(`${V1}/auth/register`, { email, password }, { auth: false }),
      login: (credentials: Credentials) => client.post<Tokens>(`${V1}/auth/login`, credentials, { auth: false }),
      logout: () => client.post<void>(`${V1}/auth/logout`),
      me: () => client.get<User>(`${V1}/auth/me`),
      features: () => client.get<{ features: Record<string, boolean> }>(`${V1}/auth/features`),
      sessions: () => client.get<Session[]>(`${V1}/auth/sessions`),
      revokeSession: (id: string) => client.delete<void>(`${V1}/auth/sessions/${encodeURIComponent(id)}`),
      revokeAllSessions: () => client.delete<Record<string, number>>(`${V1}/auth/sessions`),
    },
    twoFactor: {
      enroll: () => client.post<Enrolment>(`${V1}/auth/2fa/enroll`),
      verify: (code: string) => client.post<RecoveryCodes>(`${V1}/auth/2fa/verify`, { code }),
      disable: (password: string, code: string) => client.post<void>(`${V1}/auth/2fa/disable`, { password, code }),
    },
    apiKeys: {
      list: () => client.get<ApiKey[]>(`${V1}/api-keys`),
      create: (input: ApiKeyInput) => client.post<ApiKey>(`${V1}/api-keys`, input),
      remove: (id: string) => client.delete<void>(`${V1}/api-keys/${encodeURIComponent(id)}`),
    },
    meta: {
      /** The server's OpenAPI document: which endpoints exist right now. */
      openapi: () => client.get<{ paths?: Record<string, unknown> }>("/openapi.json", { auth: false }),
    },
    strategies: {
      list: () => client.get<Strategy[]>(`${V1}/strategies`),
    },
    markets: {
      instruments: (exchange = "sim") => client.get<Instrument[]>(`${V1}/markets/instruments`, { query: { exchange } }),
      candles: (symbol: string, exchange: string, timeframe_s: number, limit = 300) =>
        client.get<Candle[]>(`${V1}/markets/${encodeURIComponent(symbol)}/candles`, { query: { exchange, timeframe_s, limit } }),
    },
    bots: {
      list: () => client.get<Bot[]>(`${V1}/bots`),
      get: (id: string) => client.get<Bot>(`${V1}/bots/${encodeURIComponent(id)}`),
      create: (input: BotInput) => client.post<Bot>(`${V1}/bots`, input),
      update: (id: string, patch: Partial<BotInput>) => client.patch<Bot>(`${V1}/bots/${encodeURIComponent(id)}`, patch),
      remove: (id: string) => client.delete<void>(`${V1}/bots/${encodeURIComponent(id)}`),
      act: (id: string, action: BotAction) => client.post<Bot>(`${V1}/bots/${encodeURIComponent(id)}/${action}`),
      allocate: (id: string, amount: string) => client.post<unknown>(`${V1}/bots/${encodeURIComponent(id)}/allocate`, { amount }),
      deallocate: (id: string, amount: string) => client.post<unknown>(`${V1}/bots/${encodeURIComponent(id)}/deallocate`, { amount }),
      decisions: (id: string, query: { outcome?: string; cursor?: string; limit?: number } = {}) =>
        client.get<CursorPage<Decision>>(`${V1}/bots/${encodeURIComponent(id)}/decisions`, { query }),
      equity: (id: string, points = 200) => client.get<EquitySeries>(`${V1}/bots/${encodeURIComponent(id)}/equity`, { query: { points } }),
      performance: (id: string) => client.get<BotPerformance>(`${V1}/bots/${encodeURIComponent(id)}/performance`),
    },
    trading: {
      orders: (query: { bot_id?: string; status?: string; cursor?: string; limit?: number } = {}) =>
        client.get<CursorPage<Order>>(`${V1}/orders`, { query }),
      cancelOrder: (id: string) => client.delete<unknown>(`${V1}/orders/${encodeURIComponent(id)}`),
      fills: (query: { bot_id?: string; cursor?: string; limit?: number } = {}) => client.get<CursorPage<Fill>>(`${V1}/fills`, { query }),
      positions: () => client.get<Position[]>(`${V1}/positions`),
      performance: (points = 100) => client.get<Performance>(`${V1}/performance`, { query: { points } }),
    },
    wallet: {
      capital: () => client.get<Capital>(`${V1}/wallet/capital`),
      balances: (query: { bot_id?: string; as_of?: string } = {}) => client.get<Balances>(`${V1}/wallet/balances`, { query }),
      deposit: (asset: string, amount: string) => client.post<unknown>(`${V1}/wallet/deposits`, { asset, amount }),
      withdraw: (asset: string, amount: string) => client.post<unknown>(`${V1}/wallet/withdrawals`, { asset, amount }),
      ledger: (query: { bot_id?: string; cursor?: string; limit?: number } = {}) =>
        client.get<CursorPage<LedgerEntry>>(`${V1}/ledger/entries`, { query }),
      verifyLedger: () => client.get<{ ok: boolean; entries: number | null; first_broken: { entry_id: string; reason: string } | null }>(`${V1}/ledger/verify`),
      /** CSV text of an export (sent with the bearer token, so it cannot be a plain link). */
      exportCsv: (kind: "trades" | "ledger", bot_id?: string) => client.get<string>(`${V1}/exports/${kind}.csv`, { query: { bot_id } }),
    },
    risk: {
      var: (query: { confidence?: number; horizon_days?: number; method?: string; scope?: string } = {}) =>
        client.get<VarResult>(`${V1}/risk/var`, { query }),
      backtest: (query: { confidence?: number; method?: string; scope?: string } = {}) => client.get<VarBacktest>(`${V1}/risk/var/backtest`, { query }),
      monteCarlo: (query: { days?: number; simulations?: number; method?: string; seed?: number; scope?: string } = {}) =>
        client.get<MonteCarlo>(`${V1}/risk/monte-carlo`, { query }),
      stress: () => client.get<StressResult[]>(`${V1}/risk/stress`),
      breakers: () => client.get<Breakers>(`${V1}/risk/breakers`),
      events: (limit = 20) => client.get<Array<Record<string, unknown>>>(`${V1}/risk/events`, { query: { limit } }),
      setLimits: (settings: Record<string, number | string>, scope: "user" | "platform" = "user") =>
        client.put<{ scope: string; owner_id: string; limits: Record<string, unknown> }>(`${V1}/risk/limits`, { scope, settings }),
      resetBreakers: () => client.post<{ released_bots: string[] }>(`${V1}/risk/breakers/reset`, { scope: "user" }),
      emergencyStop: () => client.post<EmergencyStopReport>(`${V1}/emergency-stop`, { scope: "user", flatten: false }),
    },
    admin: {
      users: () => client.get<User[]>(`${V1}/admin/users`),
      updateUser: (id: string, patch: UserPatch) => client.patch<User>(`${V1}/admin/users/${encodeURIComponent(id)}`, patch),
      audit: (limit: number, before?: number) => client.get<AuditPage>(`${V1}/admin/audit`, { query: { limit, before } }),
      verifyAudit: () => client.get<AuditVerification>(`${V1}/admin/audit/verify`),
      features: () => client.get<FeatureTable>(`${V1}/admin/features`),
      setFeature: (feature: string, scope: string, hidden: boolean) => client.put<FeatureTable>(`${V1}/admin/features`, { feature, scope, hidden }),
    },
  };
}

export type Api = ReturnType<typeof endpoints>;
