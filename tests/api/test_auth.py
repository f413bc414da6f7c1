"""Accounts and auth through the real API on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import jwt
import pyotp
from sqlalchemy import func, select, text
from tests.api.conftest import PASSWORD, Api, auth

from amarktai.accounts.models import AuditEntry, User


def assert_error(r, status: int, code: str | None = None) -> dict:  # type: ignore[no-untyped-def]
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"error"}
    assert {"code", "message", "details"} <= set(body["error"])
    if code:
        assert body["error"]["code"] == code, body
    return body["error"]


async def count_users(api: Api) -> int:
    async with api.runtime.sessions() as s:
        return int((await s.execute(select(func.count(User.id)))).scalar_one())


async def test_register_login_me_refresh_logout(api: Api) -> None:
    user = await api.register("Alice@Example.com")
    assert user["email"] == "alice@example.com" and user["role"] == "trader"
    r = await api.login("alice@example.com")
    assert r.status_code == 200
    tokens = r.json()
    assert tokens["token_type"] == "bearer" and tokens["expires_in"] == 900
    me = await api.client.get(
        "/api/v1/auth/me", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert me.json()["id"] == user["id"]

    r2 = await api.client.post(
        "/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    assert r2.status_code == 200
    rotated = r2.json()
    assert rotated["refresh_token"] != tokens["refresh_token"]
    headers = {"Authorization": f"Bearer {rotated['access_token']}"}
    assert (await api.client.post("/api/v1/auth/logout", headers=headers)).status_code == 204
    assert_error(await api.client.get("/api/v1/auth/me", headers=headers), 401)
    r3 = await api.client.post(
        "/api/v1/auth/refresh", json={"refresh_token": rotated["refresh_token"]}
    )
    assert_error(r3, 401)


async def test_refresh_token_reuse_revokes_whole_family(api: Api) -> None:
    h = await api.user("bob@example.com")
    first = h["refresh"]
    r = await api.client.post("/api/v1/auth/refresh", json={"refresh_token": first})
    second = r.json()
    # The old token comes back (stolen copy): the whole session dies, new token included.
    assert_error(await api.client.post("/api/v1/auth/refresh", json={"refresh_token": first}), 401)
    again = await api.client.post(
        "/api/v1/auth/refresh", json={"refresh_token": second["refresh_token"]}
    )
    assert_error(again, 401)
    headers = {"Authorization": f"Bearer {second['access_token']}"}
    assert_error(await api.client.get("/api/v1/auth/me", headers=headers), 401)
    async with api.runtime.sessions() as s:
        events = (await s.execute(select(AuditEntry.event))).scalars().all()
    assert "auth.refresh_reuse" in events


async def test_sessions_list_and_revoke_and_isolation(api: Api) -> None:
    h1 = await api.user("carol@example.com")
    second = (await api.login("carol@example.com")).json()
    other = await api.user("dave@example.com")
    r = await api.client.get("/api/v1/auth/sessions", headers=auth(h1))
    sessions = r.json()
    assert len(sessions) == 2 and sum(s["current"] for s in sessions) == 1
    # Another user's session id is simply not found.
    r = await api.client.delete(
        f"/api/v1/auth/sessions/{second['session_id']}", headers=auth(other)
    )
    assert_error(r, 404, "session_not_found")
    r = await api.client.delete(f"/api/v1/auth/sessions/{second['session_id']}", headers=auth(h1))
    assert r.status_code == 204
    gone = {"Authorization": f"Bearer {second['access_token']}"}
    assert_error(await api.client.get("/api/v1/auth/me", headers=gone), 401)
    r = await api.client.delete("/api/v1/auth/sessions", headers=auth(h1))
    assert r.json() == {"revoked": 1}
    assert_error(await api.client.get("/api/v1/auth/me", headers=auth(h1)), 401)


async def test_wrong_password_and_unknown_user_look_the_same(api: Api) -> None:
    await api.register("erin@example.com")
    a = assert_error(await api.login("erin@example.com", "wrong password!"), 401)
    b = assert_error(await api.login("nobody@example.com", "wrong password!"), 401)
    assert a == b


async def test_tampered_expired_and_alg_none_tokens_are_401(api: Api) -> None:
    h = await api.user("frank@example.com")
    token = h["Authorization"].split()[1]
    head, payload, sig = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["role"] = "admin"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    none_token = jwt.encode(claims, key=None, algorithm="none")  # type: ignore[arg-type]
    other_key = jwt.encode(claims, "another-secret-key-of-sufficient-length!!", algorithm="HS256")
    bodies = []
    for bad in (f"{head}.{forged}.{sig}", none_token, other_key, "garbage", token[:-2] + "xx"):
        r = await api.client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {bad}"})
        bodies.append(assert_error(r, 401))
    api.clock.advance(timedelta(minutes=16))
    bodies.append(assert_error(await api.client.get("/api/v1/auth/me", headers=auth(h)), 401))
    assert all(b == bodies[0] for b in bodies)  # never says which part was wrong
    assert_error(await api.client.get("/api/v1/auth/me"), 401)


async def test_progressive_lockout(api: Api) -> None:
    await api.register("gina@example.com")
    for _ in range(5):
        assert_error(await api.login("gina@example.com", "wrong password!"), 401)
    r = await api.login("gina@example.com")  # even the right password waits
    err = assert_error(r, 429, "rate_limited")
    assert int(r.headers["Retry-After"]) == 31 and err["details"]["retry_after"] == 31
    api.clock.advance(timedelta(seconds=31))
    assert_error(await api.login("gina@example.com", "wrong password!"), 401)
    r = await api.login("gina@example.com")
    assert r.status_code == 429 and int(r.headers["Retry-After"]) == 61  # doubled
    api.clock.advance(timedelta(seconds=61))
    assert (await api.login("gina@example.com")).status_code == 200
    # success clears the counter
    assert_error(await api.login("gina@example.com", "wrong password!"), 401)
    assert (await api.login("gina@example.com")).status_code == 200


async def test_two_factor_enrol_login_recovery_disable(api: Api) -> None:
    h = await api.user("hana@example.com")
    r = await api.client.post("/api/v1/auth/2fa/enroll", headers=auth(h))
    enrol = r.json()
    assert enrol["otpauth_uri"].startswith("otpauth://totp/")
    assert base64.b64decode(enrol["qr_png_base64"])[:8] == b"\x89PNG\r\n\x1a\n"
    totp = pyotp.TOTP(enrol["secret"])
    bad = await api.client.post("/api/v1/auth/2fa/verify", json={"code": "000000"}, headers=auth(h))
    assert_error(bad, 422, "invalid_otp")
    code = totp.at(api.clock.now())
    r = await api.client.post("/api/v1/auth/2fa/verify", json={"code": code}, headers=auth(h))
    recovery = r.json()["recovery_codes"]
    assert len(recovery) == 10 and len(set(recovery)) == 10

    assert_error(await api.login("hana@example.com"), 401, "mfa_required")
    assert_error(await api.login("hana@example.com", otp="123456"), 401, "invalid_credentials")
    # The enrolment code is spent (each code passes once): log in with the next one.
    assert_error(await api.login("hana@example.com", otp=code), 401, "invalid_credentials")
    api.clock.advance(timedelta(seconds=30))
    ok = await api.login("hana@example.com", otp=totp.at(api.clock.now()))
    assert ok.status_code == 200
    assert (await api.login("hana@example.com", otp=recovery[0])).status_code == 200
    assert_error(await api.login("hana@example.com", otp=recovery[0]), 401)  # one time only

    r = await api.client.post(
        "/api/v1/auth/2fa/disable",
        json={"password": "wrong password!", "code": totp.at(api.clock.now())},
        headers=auth(h),
    )
    assert_error(r, 403, "reauth_failed")
    api.clock.advance(timedelta(seconds=30))  # the login spent this step's code
    r = await api.client.post(
        "/api/v1/auth/2fa/disable",
        json={"password": PASSWORD, "code": totp.at(api.clock.now())},
        headers=auth(h),
    )
    assert r.status_code == 204
    assert (await api.login("hana@example.com")).status_code == 200


async def test_bad_input_is_422_or_413_and_writes_nothing(api: Api) -> None:
    c = api.client
    r = await c.post(
        "/api/v1/auth/register",
        content=b"{not json",
        headers={"content-type": "application/json"},
    )
    assert_error(r, 422, "validation_error")
    r = await c.post("/api/v1/auth/register", json={"email": 5, "password": ["x"]})
    assert_error(r, 422)
    r = await c.post(
        "/api/v1/auth/register",
        json={"email": "ivy@example.com", "password": PASSWORD, "role": "admin"},
    )
    assert_error(r, 422)  # unknown field: no self-promotion to admin
    r = await c.post(
        "/api/v1/auth/register", json={"email": "ivy@example.com", "password": "short"}
    )
    assert_error(r, 422, "weak_password")
    big = {"email": "ivy@example.com", "password": "x" * 100_000}
    assert_error(await c.post("/api/v1/auth/register", json=big), 413, "payload_too_large")
    assert await count_users(api) == 0
    await api.register("ivy@example.com")
    r = await c.post(
        "/api/v1/auth/register", json={"email": "IVY@example.com", "password": PASSWORD}
    )
    assert_error(r, 409, "email_taken")
    assert await count_users(api) == 1
    assert_error(await c.get("/api/v1/nothing-here"), 404, "not_found")


async def test_api_keys_encrypted_masked_scoped_and_role_checked(api: Api) -> None:
    trader = await api.user("jack@example.com")
    other = await api.user("kim@example.com")
    viewer = await api.user("lee@example.com", role="viewer")
    body = {
        "exchange": "luno",
        "label": "main",
        "api_key": "AKIAKEY123456789",
        "api_secret": "super-secret-value-1234-abcdefghijklmnop",
    }
    r = await api.client.post("/api/v1/api-keys", json=body, headers=auth(trader))
    assert r.status_code == 201, r.text
    key = r.json()
    assert key["key_hint"] == "AKIA…6789" and "api_secret" not in key
    assert "super-secret" not in r.text
    assert_error(await api.client.post("/api/v1/api-keys", json=body, headers=auth(viewer)), 403)
    bad = {**body, "exchange": "mtgox"}
    r = await api.client.post("/api/v1/api-keys", json=bad, headers=auth(trader))
    assert_error(r, 422, "unsupported_exchange")
    kucoin = {**body, "exchange": "kucoin"}
    r = await api.client.post("/api/v1/api-keys", json=kucoin, headers=auth(trader))
    assert_error(r, 422, "passphrase_required")
    # the venue's own key shape: a Binance key is 64 letters and digits
    binance = {**body, "exchange": "binance"}
    r = await api.client.post("/api/v1/api-keys", json=binance, headers=auth(trader))
    assert_error(r, 422, "invalid_api_key_format")
    assert "64 letters and digits" in r.json()["error"]["message"]
    listed = (await api.client.get("/api/v1/api-keys", headers=auth(trader))).json()
    assert [k["id"] for k in listed] == [key["id"]]
    assert (await api.client.get("/api/v1/api-keys", headers=auth(other))).json() == []
    r = await api.client.delete(f"/api/v1/api-keys/{key['id']}", headers=auth(other))
    assert_error(r, 404, "api_key_not_found")
    async with api.runtime.sessions() as s:
        raw = (await s.execute(text("SELECT key_enc, secret_enc FROM api_keys"))).one()
    assert "super-secret" not in "".join(raw) and "AKIAKEY" not in "".join(raw)
    assert api.runtime.vault.decrypt(raw[1]) == "super-secret-value-1234-abcdefghijklmnop"
    r = await api.client.delete(f"/api/v1/api-keys/{key['id']}", headers=auth(trader))
    assert r.status_code == 204


async def test_admin_users_roles_and_audit_chain(api: Api) -> None:
    admin = await api.user("root@example.com", role="admin")
    trader = await api.user("mia@example.com")
    assert_error(await api.client.get("/api/v1/admin/users", headers=auth(trader)), 403)
    users = (await api.client.get("/api/v1/admin/users", headers=auth(admin))).json()
    assert {u["email"] for u in users} == {"root@example.com", "mia@example.com"}
    r = await api.client.patch(
        f"/api/v1/admin/users/{trader['id']}", json={"role": "viewer"}, headers=auth(admin)
    )
    assert r.json()["role"] == "viewer"
    r = await api.client.patch(
        "/api/v1/admin/users/nope", json={"role": "viewer"}, headers=auth(admin)
    )
    assert_error(r, 404)
    r = await api.client.patch(
        f"/api/v1/admin/users/{trader['id']}", json={"role": "god"}, headers=auth(admin)
    )
    assert_error(r, 422)
    page = (await api.client.get("/api/v1/admin/audit?limit=2", headers=auth(admin))).json()
    assert len(page["items"]) == 2 and page["next_cursor"]
    ok = (await api.client.get("/api/v1/admin/audit/verify", headers=auth(admin))).json()
    assert ok["ok"] and ok["entries"] >= 4
    async with api.runtime.sessions() as s:
        await s.execute(text("UPDATE audit_log SET ip = '6.6.6.6' WHERE seq = 2"))
        await s.commit()
    bad = (await api.client.get("/api/v1/admin/audit/verify", headers=auth(admin))).json()
    assert bad["ok"] is False and bad["first_broken"]["seq"] == 2


async def test_health_ready_metrics_and_request_id(api: Api) -> None:
    r = await api.client.get("/health", headers={"X-Request-ID": "abc123"})
    assert r.json() == {"status": "ok"} and r.headers["x-request-id"] == "abc123"
    ready = await api.client.get("/ready")
    assert ready.status_code == 200 and ready.json()["checks"]["migrations"] == "ok"
    metrics = await api.client.get("/metrics")
    assert "amarktai_http_requests_total" in metrics.text
    docs = await api.client.get("/openapi.json")
    assert "/api/v1/auth/login" in docs.json()["paths"]
