"""Auth under concurrency, through the real API on SQLite and PostgreSQL: parallel wrong
logins (lockout), parallel refreshes of one token (forking) and replayed TOTP codes.

Requests are fired with `asyncio.gather` over the ASGI transport, so they interleave at
every await (database round trips, lock waits) as they would behind a real server.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta

import httpx
import pyotp
import pytest
from sqlalchemy import select
from tests.api.conftest import PASSWORD, Api, auth

from amarktai.accounts.models import AuditEntry, LoginAttempt

PARALLEL = 50
WRONG = "wrong password!"


async def refresh(api: Api, token: str) -> httpx.Response:
    return await api.client.post("/api/v1/auth/refresh", json={"refresh_token": token})


async def events(api: Api) -> list[str]:
    async with api.runtime.sessions() as s:
        return list((await s.execute(select(AuditEntry.event))).scalars())


def count_password_checks(api: Api, monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Record every password verification the service makes (their results, in order)."""
    checks: list[bool] = []
    real = api.runtime.passwords.verify

    def verify(stored_hash: str | None, password: str) -> bool:
        ok = real(stored_hash, password)
        checks.append(ok)
        return ok

    monkeypatch.setattr(api.runtime.passwords, "verify", verify)
    return checks


# -- defect 5: lockout under concurrency ------------------------------------------------------
@pytest.mark.parametrize("known", [True, False], ids=["known-user", "unknown-user"])
async def test_parallel_wrong_logins_lock_out_without_500(
    api: Api, monkeypatch: pytest.MonkeyPatch, known: bool
) -> None:
    email = "race@example.com"
    if known:
        await api.register(email)
    free = api.runtime.settings.login_free_attempts
    checks = count_password_checks(api, monkeypatch)

    responses = await asyncio.gather(*(api.login(email, WRONG) for _ in range(PARALLEL)))

    statuses = Counter(r.status_code for r in responses)
    assert statuses == {401: free, 429: PARALLEL - free}, statuses
    # Only the reserved attempts reached a password check; the rest were refused first.
    assert checks == [False] * free
    assert all("Retry-After" in r.headers for r in responses if r.status_code == 429)
    async with api.runtime.sessions() as s:
        attempt = await s.get(LoginAttempt, email)
    assert attempt is not None and attempt.failures == free
    assert attempt.locked_until is not None and attempt.locked_until > api.clock.now()
    # Locked: even the right password is refused, before it is checked.
    r = await api.login(email)
    assert r.status_code == 429 and int(r.headers["Retry-After"]) == 31
    assert len(checks) == free
    assert (await events(api)).count("auth.login_failed") == free


async def test_parallel_logins_after_the_lock_expires_check_one_password(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past a lockout each new failure locks again at once: of a parallel burst only one
    request may test a password, and the lockout doubles."""
    email = "again@example.com"
    await api.register(email)
    free = api.runtime.settings.login_free_attempts
    for _ in range(free):
        assert (await api.login(email, WRONG)).status_code == 401
    api.clock.advance(timedelta(seconds=31))
    checks = count_password_checks(api, monkeypatch)

    responses = await asyncio.gather(*(api.login(email, WRONG) for _ in range(20)))

    assert Counter(r.status_code for r in responses) == {401: 1, 429: 19}
    assert checks == [False]
    r = await api.login(email)
    assert r.status_code == 429 and int(r.headers["Retry-After"]) == 61


async def test_parallel_right_and_wrong_logins_never_500_and_success_clears(api: Api) -> None:
    email = "mixed@example.com"
    await api.register(email)
    passwords = [PASSWORD if i % 10 == 0 else WRONG for i in range(PARALLEL)]
    responses = await asyncio.gather(*(api.login(email, p) for p in passwords))
    assert {r.status_code for r in responses} <= {200, 401, 429}
    async with api.runtime.sessions() as s:
        attempt = await s.get(LoginAttempt, email)
    failures = attempt.failures if attempt else 0
    # Failures recorded since the last success, never more than the free attempts.
    assert failures <= api.runtime.settings.login_free_attempts


# -- defect 6: refresh-token forking -----------------------------------------------------------
async def test_parallel_refresh_has_one_winner_and_the_loser_kills_the_family(api: Api) -> None:
    await api.register("fork@example.com")
    for _ in range(3):
        tokens = (await api.login("fork@example.com")).json()
        first, second = await asyncio.gather(
            refresh(api, tokens["refresh_token"]), refresh(api, tokens["refresh_token"])
        )
        assert sorted([first.status_code, second.status_code]) == [200, 401], (
            first.text,
            second.text,
        )
        winner = first if first.status_code == 200 else second
        # The loser is treated as reuse: the session is revoked, the winner's pair with it.
        assert (await refresh(api, winner.json()["refresh_token"])).status_code == 401
        headers = {"Authorization": f"Bearer {winner.json()['access_token']}"}
        assert (await api.client.get("/api/v1/auth/me", headers=headers)).status_code == 401
    assert (await events(api)).count("auth.refresh_reuse") == 3


async def test_many_parallel_refreshes_of_one_token_yield_at_most_one_pair(api: Api) -> None:
    h = await api.user("fork2@example.com")
    responses = await asyncio.gather(*(refresh(api, h["refresh"]) for _ in range(10)))
    statuses = Counter(r.status_code for r in responses)
    assert statuses == {200: 1, 401: 9}, statuses


# -- defect 9: TOTP replay -----------------------------------------------------------------------
async def enable_2fa(api: Api, email: str) -> tuple[dict[str, str], pyotp.TOTP, str, list[str]]:
    """Enrol and confirm; answers the caller, its TOTP, the enrolment code and recovery codes."""
    h = await api.user(email)
    secret = (await api.client.post("/api/v1/auth/2fa/enroll", headers=auth(h))).json()["secret"]
    totp = pyotp.TOTP(secret)
    code = totp.at(api.clock.now())
    r = await api.client.post("/api/v1/auth/2fa/verify", json={"code": code}, headers=auth(h))
    assert r.status_code == 200, r.text
    return h, totp, code, r.json()["recovery_codes"]


async def test_a_totp_code_is_accepted_once(api: Api) -> None:
    email = "replay@example.com"
    _, totp, enrol_code, _ = await enable_2fa(api, email)
    # The enrolment code was used: it cannot log in afterwards.
    r = await api.login(email, otp=enrol_code)
    assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_credentials"

    api.clock.advance(timedelta(seconds=30))
    code = totp.at(api.clock.now())
    assert (await api.login(email, otp=code)).status_code == 200
    for _ in range(2):  # the same code again, and again
        r = await api.login(email, otp=code)
        assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_credentials"
    # A code of an earlier step is still inside the drift window, but older than the last
    # accepted one: refused too.
    api.clock.advance(timedelta(seconds=30))
    assert (await api.login(email, otp=code)).status_code == 401
    assert (await api.login(email, otp=totp.at(api.clock.now()))).status_code == 200


async def test_parallel_logins_with_one_totp_code_let_one_in(api: Api) -> None:
    email = "twice@example.com"
    _, totp, _, _ = await enable_2fa(api, email)
    api.clock.advance(timedelta(seconds=30))
    code = totp.at(api.clock.now())
    responses = await asyncio.gather(*(api.login(email, otp=code) for _ in range(4)))
    assert Counter(r.status_code for r in responses) == {200: 1, 401: 3}


async def test_parallel_recovery_code_use_lets_one_in(api: Api) -> None:
    email = "recover@example.com"
    _, _, _, recovery = await enable_2fa(api, email)
    responses = await asyncio.gather(*(api.login(email, otp=recovery[0]) for _ in range(4)))
    assert Counter(r.status_code for r in responses) == {200: 1, 401: 3}
    assert (await events(api)).count("2fa.recovery_code_used") == 1


async def test_used_codes_cannot_regenerate_recovery_codes_or_disable_2fa(api: Api) -> None:
    email = "reauth@example.com"
    h, totp, enrol_code, _ = await enable_2fa(api, email)
    url = "/api/v1/auth/2fa/recovery-codes"
    r = await api.client.post(url, json={"code": enrol_code}, headers=auth(h))
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_otp"

    api.clock.advance(timedelta(seconds=30))
    code = totp.at(api.clock.now())
    first, second = await asyncio.gather(
        *(api.client.post(url, json={"code": code}, headers=auth(h)) for _ in range(2))
    )
    assert sorted([first.status_code, second.status_code]) == [200, 422]

    disable = {"password": PASSWORD, "code": code}
    r = await api.client.post("/api/v1/auth/2fa/disable", json=disable, headers=auth(h))
    assert r.status_code == 403 and r.json()["error"]["code"] == "reauth_failed"
    api.clock.advance(timedelta(seconds=30))
    disable["code"] = totp.at(api.clock.now())
    r = await api.client.post("/api/v1/auth/2fa/disable", json=disable, headers=auth(h))
    assert r.status_code == 204
    # Re-enrolling gets a new secret whose codes are checked afresh, at once.
    secret = (await api.client.post("/api/v1/auth/2fa/enroll", headers=auth(h))).json()["secret"]
    code = pyotp.TOTP(secret).at(api.clock.now())
    r = await api.client.post("/api/v1/auth/2fa/verify", json={"code": code}, headers=auth(h))
    assert r.status_code == 200, r.text


async def test_parallel_recovery_code_reauth_passes_once(api: Api) -> None:
    """Outside login (no lockout row to queue on): two parallel regenerations with one
    recovery code, only one may spend it."""
    h, _, _, recovery = await enable_2fa(api, "recover2@example.com")
    url = "/api/v1/auth/2fa/recovery-codes"
    responses = await asyncio.gather(
        *(api.client.post(url, json={"code": recovery[1]}, headers=auth(h)) for _ in range(4))
    )
    assert Counter(r.status_code for r in responses) == {200: 1, 422: 3}
