"""Account use cases: registration, login with lockout and 2FA, token rotation, sessions,
2FA enrolment, exchange API keys and roles.

The service never commits: the caller's unit of work does, once. Errors that must still
persist a security record (failed-login counter, revoked token family) are raised with
`keeping_writes()` so the unit of work commits those records and nothing else happens.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from amarktai.accounts import audit, totp
from amarktai.accounts.models import (
    ROLES,
    ApiKey,
    AuthSession,
    RecoveryCode,
    RefreshToken,
    User,
)
from amarktai.accounts.passwords import Passwords
from amarktai.accounts.repository import AccountsRepository
from amarktai.accounts.tokens import TokenCodec, hash_token, new_refresh_token
from amarktai.accounts.vault import Vault, mask
from amarktai.exchanges.keys import check_key_format as venue_key_format
from amarktai.kit.clock import Clock
from amarktai.kit.errors import (
    Conflict,
    Forbidden,
    NotFound,
    RateLimited,
    Unauthorized,
    ValidationFailed,
)
from amarktai.kit.ids import new_id

EXCHANGES = ("luno", "valr", "ovex", "binance", "kucoin", "bybit")
NEEDS_PASSPHRASE = ("kucoin",)


@dataclass(frozen=True)
class AuthPolicy:
    refresh_ttl_s: int = 30 * 24 * 3600
    free_attempts: int = 5
    lockout_base_s: int = 30
    lockout_max_s: int = 3600


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    session_id: str


@dataclass(frozen=True)
class Enrolment:
    secret: str
    otpauth_uri: str
    qr_png_base64: str


@dataclass(frozen=True)
class EndedSession:
    """A session this unit of work ended (`session_id` None: all of the user's), with the
    reason stored on it. The service only records it: the caller tells the real-time
    hubs once the unit of work has committed, so no socket closes for a rolled-back one."""

    user_id: str
    session_id: str | None
    reason: str


@dataclass(frozen=True)
class ClientInfo:
    ip: str | None = None
    user_agent: str | None = None


class AccountsService:
    def __init__(
        self,
        session: AsyncSession,
        *,
        passwords: Passwords,
        tokens: TokenCodec,
        vault: Vault,
        clock: Clock,
        policy: AuthPolicy | None = None,
    ) -> None:
        self.s = session
        self.repo = AccountsRepository(session)
        self.passwords = passwords
        self.tokens = tokens
        self.vault = vault
        self.clock = clock
        self.policy = policy or AuthPolicy()
        self.ended: list[EndedSession] = []

    # -- users -----------------------------------------------------------------
    async def register(
        self, email: str, password: str, *, role: str = "trader", client: ClientInfo | None = None
    ) -> User:
        email = email.strip().lower()
        if role not in ROLES:
            raise ValidationFailed(f"unknown role {role!r}", code="invalid_role")
        if await self.repo.user_by_email(email):
            raise Conflict("an account with this e-mail already exists", code="email_taken")
        user = User(
            id=new_id(),
            email=email,
            password_hash=self.passwords.hash(password),
            role=role,
            is_active=True,
            totp_enabled=False,
            created_at=self.clock.now(),
        )
        self.s.add(user)
        await self.s.flush()
        await self._audit("user.registered", user.id, client, {"email": email, "role": role})
        return user

    async def ensure_admin(self, email: str, password: str) -> tuple[User, bool]:
        """First admin from the environment: create it, or promote the existing account."""
        user = await self.repo.user_by_email(email)
        if user is None:
            return await self.register(email, password, role="admin"), True
        if user.role != "admin":
            user.role = "admin"
            await self._audit("user.role_changed", user.id, None, {"role": "admin", "by": "env"})
        return user, False

    async def set_role(self, actor: User, user_id: str, role: str) -> User:
        if role not in ROLES:
            raise ValidationFailed(f"unknown role {role!r}", code="invalid_role")
        user = await self.get_user(user_id)
        if user.id == actor.id and role != "admin":
            raise Conflict("admins cannot demote themselves", code="self_demotion")
        user.role = role
        await self._audit("user.role_changed", user.id, None, {"role": role}, actor_id=actor.id)
        return user

    async def set_active(self, actor: User, user_id: str, active: bool) -> User:
        user = await self.get_user(user_id)
        if user.id == actor.id:
            raise Conflict("admins cannot deactivate themselves", code="self_deactivation")
        user.is_active = active
        if not active:
            await self.repo.revoke_sessions(user.id, self.clock.now(), "deactivated")
            self.ended.append(EndedSession(user.id, None, "deactivated"))
        await self._audit("user.active_changed", user.id, None, {"active": active}, actor.id)
        return user

    async def set_password(self, user: User, password: str, *, by: str) -> int:
        """An operator's password reset (CLI, or the demo password from the
        environment): every session of the user ends, as a leaked password may be why.
        Returns how many sessions ended."""
        user.password_hash = self.passwords.hash(password)  # refuses a weak one
        ended = await self.repo.revoke_sessions(user.id, self.clock.now(), "password_reset")
        self.ended.append(EndedSession(user.id, None, "password_reset"))
        await self._audit("user.password_reset", user.id, None, {"by": by, "sessions": ended})
        return ended

    async def get_user(self, user_id: str) -> User:
        user = await self.repo.user(user_id)
        if user is None:
            raise NotFound("user not found", code="user_not_found")
        return user

    # -- login and tokens --------------------------------------------------------
    async def login(
        self, email: str, password: str, otp: str | None, client: ClientInfo
    ) -> TokenPair:
        email = email.strip().lower()
        now = self.clock.now()
        # The attempt is counted before the password is checked (see
        # `reserve_login_attempt`), so a burst of parallel guesses gets the free attempts
        # and no more; a success clears the count, and an answer that records nothing
        # (mfa_required, a crash) rolls the reservation back with the request.
        failures = await self.repo.reserve_login_attempt(email, now)
        if failures is None:
            attempt = await self.repo.login_attempt(email)
            until = attempt.locked_until if attempt and attempt.locked_until else now
            wait = int((until - now).total_seconds()) + 1
            raise RateLimited("too many failed logins; try again later", retry_after=wait)
        user = await self.repo.user_by_email(email)
        ok = self.passwords.verify(user.password_hash if user else None, password)
        if not ok or user is None or not user.is_active:
            raise await self._login_failed(email, user, client, "bad_password", failures)
        if user.totp_enabled:
            if not otp:
                raise Unauthorized("two-factor code required", code="mfa_required")
            if not await self._check_second_factor(user, otp, now):
                raise await self._login_failed(email, user, client, "bad_otp", failures)
        await self.repo.clear_login_attempts(email)
        await self._audit("auth.login", user.id, client, {})
        return await self._start_session(user, client)

    async def _login_failed(
        self, email: str, user: User | None, client: ClientInfo, reason: str, failures: int
    ) -> Unauthorized:
        """`failures` counts this attempt already (reserved before the password check)."""
        now = self.clock.now()
        over = failures - self.policy.free_attempts
        locked_until = None
        if over >= 0:
            seconds = min(self.policy.lockout_base_s * 2**over, self.policy.lockout_max_s)
            locked_until = now + timedelta(seconds=seconds)
        await self.repo.record_login_failure(email, now, locked_until)
        details = {"email": email, "reason": reason, "failures": failures}
        await self._audit("auth.login_failed", user.id if user else None, client, details)
        return Unauthorized("invalid credentials", code="invalid_credentials").keeping_writes()

    async def _check_second_factor(self, user: User, otp: str, now: datetime) -> bool:
        """A TOTP code of a step later than the last one accepted, or an unused recovery
        code. Either is spent by a conditional UPDATE before it counts, so each passes
        once, even when parallel requests carry it (RFC 6238 §5.2)."""
        if user.totp_secret_enc:
            secret = self.vault.decrypt(user.totp_secret_enc)
            step = totp.verify_code(secret, otp, now, after=user.totp_last_step)
            if step is not None:
                return await self.repo.accept_totp_step(user.id, step)
        wanted = totp.hash_recovery_code(otp)
        for code in await self.repo.unused_recovery_codes(user.id):
            if code.code_hash == wanted:
                if not await self.repo.use_recovery_code(code.id, now):
                    return False  # a parallel request spent it first
                await self._audit("2fa.recovery_code_used", user.id, None, {})
                return True
        return False

    async def _start_session(self, user: User, client: ClientInfo) -> TokenPair:
        now = self.clock.now()
        auth = AuthSession(
            id=new_id(),
            user_id=user.id,
            created_at=now,
            last_used_at=now,
            expires_at=now + timedelta(seconds=self.policy.refresh_ttl_s),
            ip=client.ip,
            user_agent=(client.user_agent or "")[:255] or None,
        )
        self.s.add(auth)
        await self.s.flush()
        return await self._issue(user, auth)

    async def _issue(self, user: User, auth: AuthSession) -> TokenPair:
        raw = new_refresh_token()
        self.s.add(
            RefreshToken(
                id=new_id(),
                session_id=auth.id,
                token_hash=hash_token(raw),
                created_at=self.clock.now(),
            )
        )
        await self.s.flush()
        access = self.tokens.issue_access(user.id, auth.id, user.role, self.clock.now())
        return TokenPair(access, raw, int(self.tokens.access_ttl.total_seconds()), auth.id)

    async def refresh(self, raw_token: str, client: ClientInfo) -> TokenPair:
        now = self.clock.now()
        token = await self.repo.token_by_hash(hash_token(raw_token))
        if token is None:
            raise Unauthorized()
        auth = await self.s.get(AuthSession, token.session_id)
        if auth is None or auth.revoked_at is not None or auth.expires_at <= now:
            raise Unauthorized()
        if not await self.repo.use_refresh_token(token.id, now):
            # A rotated token came back, or a parallel refresh of it won the race: two
            # parties hold this token, one a stolen copy. Kill the family.
            auth.revoked_at = now
            auth.revoke_reason = "refresh_token_reuse"
            self.ended.append(EndedSession(auth.user_id, auth.id, auth.revoke_reason))
            await self._audit("auth.refresh_reuse", auth.user_id, client, {"session": auth.id})
            raise Unauthorized().keeping_writes()
        user = await self.repo.user(auth.user_id)
        if user is None or not user.is_active:
            raise Unauthorized()
        auth.last_used_at = now
        auth.ip = client.ip or auth.ip
        return await self._issue(user, auth)

    async def authenticate(self, access_token: str) -> tuple[User, AuthSession]:
        now = self.clock.now()
        claims = self.tokens.decode_access(access_token, now)
        auth = await self.repo.session_of_user(claims.user_id, claims.session_id)
        if auth is None or auth.revoked_at is not None or auth.expires_at <= now:
            raise Unauthorized()
        user = await self.repo.user(claims.user_id)
        if user is None or not user.is_active:
            raise Unauthorized()
        return user, auth

    async def logout(self, user: User, session_id: str, client: ClientInfo) -> None:
        await self.repo.revoke_sessions(user.id, self.clock.now(), "logout", only=session_id)
        self.ended.append(EndedSession(user.id, session_id, "logout"))
        await self._audit("auth.logout", user.id, client, {"session": session_id})

    async def sessions(self, user: User) -> list[AuthSession]:
        return await self.repo.active_sessions(user.id, self.clock.now())

    async def revoke_session(self, user: User, session_id: str, client: ClientInfo) -> None:
        auth = await self.repo.session_of_user(user.id, session_id)
        if auth is None:
            raise NotFound("session not found", code="session_not_found")
        await self.repo.revoke_sessions(user.id, self.clock.now(), "revoked", only=session_id)
        self.ended.append(EndedSession(user.id, session_id, "revoked"))
        await self._audit("session.revoked", user.id, client, {"session": session_id})

    async def revoke_all_sessions(self, user: User, client: ClientInfo) -> int:
        count = await self.repo.revoke_sessions(user.id, self.clock.now(), "revoked_all")
        self.ended.append(EndedSession(user.id, None, "revoked_all"))
        await self._audit("session.revoked_all", user.id, client, {"count": count})
        return count

    # -- 2FA -----------------------------------------------------------------------
    async def enrol_totp(self, user: User) -> Enrolment:
        if user.totp_enabled:
            raise Conflict("two-factor authentication is already enabled", code="2fa_enabled")
        secret = totp.new_secret()
        user.totp_secret_enc = self.vault.encrypt(secret)
        user.totp_last_step = None  # no code of the new secret has been accepted yet
        uri = totp.provisioning_uri(secret, user.email)
        return Enrolment(secret, uri, totp.qr_png_base64(uri))

    async def confirm_totp(self, user: User, code: str) -> list[str]:
        if user.totp_enabled or not user.totp_secret_enc:
            raise Conflict("start enrolment first", code="2fa_not_pending")
        secret = self.vault.decrypt(user.totp_secret_enc)
        step = totp.verify_code(secret, code, self.clock.now(), after=user.totp_last_step)
        # The enrolment code is spent like any other: it cannot log in afterwards.
        if step is None or not await self.repo.accept_totp_step(user.id, step):
            raise ValidationFailed("the code is not valid", code="invalid_otp")
        user.totp_enabled = True
        codes = await self._new_recovery_codes(user)
        await self._audit("2fa.enabled", user.id, None, {})
        return codes

    async def regenerate_recovery_codes(self, user: User, code: str) -> list[str]:
        if not user.totp_enabled or not await self._check_second_factor(
            user, code, self.clock.now()
        ):
            raise ValidationFailed("the code is not valid", code="invalid_otp")
        codes = await self._new_recovery_codes(user)
        await self._audit("2fa.recovery_codes_regenerated", user.id, None, {})
        return codes

    async def _new_recovery_codes(self, user: User) -> list[str]:
        await self.repo.delete_recovery_codes(user.id)
        codes = totp.new_recovery_codes()
        for code in codes:
            self.s.add(
                RecoveryCode(id=new_id(), user_id=user.id, code_hash=totp.hash_recovery_code(code))
            )
        return codes

    async def disable_totp(self, user: User, password: str, code: str) -> None:
        if not user.totp_enabled:
            raise Conflict("two-factor authentication is not enabled", code="2fa_not_enabled")
        if not self.passwords.verify(user.password_hash, password):
            raise Forbidden("password or code is not valid", code="reauth_failed")
        if not await self._check_second_factor(user, code, self.clock.now()):
            raise Forbidden("password or code is not valid", code="reauth_failed")
        user.totp_enabled = False
        user.totp_secret_enc = None
        user.totp_last_step = None
        await self.repo.delete_recovery_codes(user.id)
        await self._audit("2fa.disabled", user.id, None, {})

    # -- exchange API keys -----------------------------------------------------------
    async def add_api_key(
        self,
        user: User,
        *,
        exchange: str,
        label: str,
        api_key: str,
        api_secret: str,
        passphrase: str | None,
        client: ClientInfo,
    ) -> ApiKey:
        exchange = exchange.lower()
        check_key_format(exchange, api_key, api_secret, passphrase)
        row = ApiKey(
            id=new_id(),
            user_id=user.id,
            exchange=exchange,
            label=label.strip() or exchange,
            key_enc=self.vault.encrypt(api_key),
            secret_enc=self.vault.encrypt(api_secret),
            passphrase_enc=self.vault.encrypt(passphrase) if passphrase else None,
            key_hint=mask(api_key),
            created_at=self.clock.now(),
        )
        self.s.add(row)
        await self.s.flush()
        await self._audit("apikey.created", user.id, client, {"id": row.id, "exchange": exchange})
        return row

    async def delete_api_key(self, user: User, key_id: str, client: ClientInfo) -> None:
        row = await self.repo.api_key(user.id, key_id)
        if row is None:
            raise NotFound("API key not found", code="api_key_not_found")
        await self.s.delete(row)
        await self._audit("apikey.deleted", user.id, client, {"id": key_id})

    async def rotate_encryption(self) -> int:
        """Re-encrypt every stored secret under the primary key; returns fields rewritten."""
        count = 0
        for row in await self.repo.all_api_keys():
            row.key_enc = self.vault.rotate(row.key_enc)
            row.secret_enc = self.vault.rotate(row.secret_enc)
            if row.passphrase_enc:
                row.passphrase_enc = self.vault.rotate(row.passphrase_enc)
            count += 1
        for user in await self.repo.users_with_totp():
            assert user.totp_secret_enc is not None
            user.totp_secret_enc = self.vault.rotate(user.totp_secret_enc)
            count += 1
        await self._audit("keys.rotated", None, None, {"rewritten": count})
        return count

    async def _audit(
        self,
        event: str,
        user_id: str | None,
        client: ClientInfo | None,
        details: dict[str, object],
        actor_id: str | None = None,
    ) -> None:
        await audit.append(
            self.s,
            event,
            now=self.clock.now(),
            user_id=user_id,
            actor_id=actor_id,
            ip=client.ip if client else None,
            details=dict(details),
        )


def check_key_format(exchange: str, key: str, secret: str, passphrase: str | None) -> None:
    """Offline checks before a key is stored: a supported venue, and the shape that venue
    issues (`exchanges.keys`: a secret pasted in the key field or another venue's key is
    refused with the shape named). What the key may do is asked of the venue itself
    (`exchanges.keys.check_key_online`)."""
    if exchange not in EXCHANGES:
        raise ValidationFailed(
            f"unsupported exchange {exchange!r}; choose one of {', '.join(EXCHANGES)}",
            code="unsupported_exchange",
        )
    if exchange in NEEDS_PASSPHRASE and not passphrase:
        raise ValidationFailed(f"{exchange} keys need a passphrase", code="passphrase_required")
    venue_key_format(exchange, key, secret, passphrase)
