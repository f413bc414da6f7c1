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
