"""Secrets never leak (responses, logs) and hostile input never causes a 5xx."""

from __future__ import annotations

import json
import logging
import string

import pyotp
import pytest
import structlog
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.api.conftest import PASSWORD, Api, auth

from amarktai.logging_setup import configure_logging

FUZZ = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


async def test_secrets_never_in_responses_or_logs(
    api: Api, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    configure_logging("DEBUG", json_logs=True)
    caplog.set_level(logging.DEBUG)
    try:
        await _exercise_everything_and_check(api, capsys, caplog)
    finally:
        structlog.reset_defaults()


async def _exercise_everything_and_check(
    api: Api, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    api_secret, api_key = "sk-live-TOPSECRET-0123456789", "pk-KEYMATERIAL-987654321"
    bodies: list[str] = []
    h = await api.user("sec@example.com")
    r = await api.client.post(
        "/api/v1/api-keys",
        json={"exchange": "valr", "api_key": api_key, "api_secret": api_secret},
        headers=auth(h),
    )
    bodies.append(r.text)
    bodies.append((await api.client.get("/api/v1/api-keys", headers=auth(h))).text)
    enrol = (await api.client.post("/api/v1/auth/2fa/enroll", headers=auth(h))).json()
    code = pyotp.TOTP(enrol["secret"]).at(api.clock.now())
    await api.client.post("/api/v1/auth/2fa/verify", json={"code": code}, headers=auth(h))
    bodies.append((await api.client.get("/api/v1/auth/me", headers=auth(h))).text)
    bodies.append((await api.client.get("/api/v1/auth/sessions", headers=auth(h))).text)
    bad = await api.login("sec@example.com", "wrong-password-here")
    bodies.append(bad.text)
    out = capsys.readouterr()
    logs = out.out + out.err + caplog.text
    for secret in (
        api_secret,
        api_key,
        PASSWORD,
        "wrong-password-here",
        h["refresh"],
        h["Authorization"].split()[1],
        enrol["secret"],
    ):
        assert secret not in logs, f"secret leaked into logs: {secret[:6]}…"
    for secret in (api_secret, api_key, PASSWORD, "wrong-password-here"):
        assert all(secret not in body for body in bodies)
    # The TOTP seed is shown exactly once, at enrolment, and never again.
    assert all(enrol["secret"] not in body for body in bodies)


@FUZZ
@given(token=st.text(alphabet=string.printable, max_size=300))
async def test_any_bearer_token_is_401_never_500(api: Api, token: str) -> None:
    header = f"Bearer {token}".strip()
    if any(ch in header for ch in "\r\n\x0b\x0c"):
        return  # not a valid HTTP header value; the HTTP client refuses it
    r = await api.client.get("/api/v1/auth/me", headers={"Authorization": header})
    assert r.status_code == 401
    assert r.json()["error"]["code"] in {"unauthorized"}


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)


@FUZZ
@given(
    body=json_values,
    path=st.sampled_from(["/api/v1/auth/login", "/api/v1/auth/register", "/api/v1/auth/refresh"]),
)
async def test_arbitrary_json_bodies_get_a_4xx_in_the_error_shape(
    api: Api, body: object, path: str
) -> None:
    r = await api.client.post(
        path, content=json.dumps(body), headers={"content-type": "application/json"}
    )
    assert 400 <= r.status_code < 500, r.text
    assert set(r.json()) == {"error"}


@FUZZ
@given(email=st.emails(), password=st.text(min_size=0, max_size=80))
async def test_register_edge_cases_are_created_or_rejected_cleanly(
    api: Api, email: str, password: str
) -> None:
    r = await api.client.post("/api/v1/auth/register", json={"email": email, "password": password})
    assert r.status_code in (201, 409, 422), r.text
