import type { ApiClient } from "./client";
import type {
  ApiKey,
  ApiKeyInput,
  AuditPage,
  AuditVerification,
  Credentials,
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
    admin: {
      users: () => client.get<User[]>(`${V1}/admin/users`),
      updateUser: (id: string, patch: UserPatch) => client.patch<User>(`${V1}/admin/users/${encodeURIComponent(id)}`, patch),
      audit: (limit: number, before?: number) => client.get<AuditPage>(`${V1}/admin/audit`, { query: { limit, before } }),
      verifyAudit: () => client.get<AuditVerification>(`${V1}/admin/audit/verify`),
    },
  };
}

export type Api = ReturnType<typeof endpoints>;
