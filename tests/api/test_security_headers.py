"""Security headers on every response, a private data directory (issue 17 item 4)."""

from __future__ import annotations

import stat
from pathlib import Path

from tests.api.conftest import Api

from amarktai.api.middleware import APP_CSP


async def test_every_response_carries_the_headers(api: Api) -> None:
    for path in ("/health", "/api/v1/bots", "/openapi.json", "/no-such-page"):
        r = await api.client.get(path)
        assert r.headers["x-content-type-options"] == "nosniff", path
        assert r.headers["x-frame-options"] == "DENY"
        assert r.headers["referrer-policy"] == "no-referrer"
        assert r.headers["content-security-policy"] == APP_CSP
        assert "frame-ancestors 'none'" in APP_CSP and "script-src 'self';" in APP_CSP
        assert "strict-transport-security" not in r.headers  # not production: plain http


async def test_docs_get_their_own_policy_and_tokens_are_never_cached(api: Api) -> None:
    docs = await api.client.get("/docs")
    assert docs.status_code == 200
    csp = docs.headers["content-security-policy"]
    assert "https://cdn.jsdelivr.net" in csp and "frame-ancestors 'none'" in csp
    await api.register("cache@example.com")
    login = await api.login("cache@example.com")
    assert login.status_code == 200
    assert login.headers["cache-control"] == "no-store"
    assert login.headers["pragma"] == "no-cache"
    health = await api.client.get("/health")
    assert health.headers.get("cache-control") != "no-store"


def test_the_data_dir_is_0700_and_the_database_0600(api: Api) -> None:
    data: Path = api.runtime.settings.data_dir
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    db = data / "amarktai.db"
    if db.exists():  # SQLite runs: the file is the owner's alone
        assert stat.S_IMODE(db.stat().st_mode) == 0o600
    secrets = data / "secrets.json"
    assert stat.S_IMODE(secrets.stat().st_mode) == 0o600


def test_sqlite_files_are_created_and_tightened_to_0600(tmp_path: Path) -> None:
    import os

    from amarktai.config import ensure_private_dir
    from amarktai.db.engine import private_file

    fresh = tmp_path / "new" / "amarktai.db"
    fresh.parent.mkdir()
    private_file(fresh)
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o600
    old = tmp_path / "old.db"
    old.write_text("")
    wal = tmp_path / "old.db-wal"
    wal.write_text("")
    os.chmod(old, 0o644)
    os.chmod(wal, 0o644)
    private_file(old)
    assert stat.S_IMODE(old.stat().st_mode) == 0o600
    assert stat.S_IMODE(wal.stat().st_mode) == 0o600
    loose = tmp_path / "var"
    loose.mkdir(mode=0o755)
    os.chmod(loose, 0o755)
    ensure_private_dir(loose)
    assert stat.S_IMODE(loose.stat().st_mode) == 0o700


async def test_hsts_in_production_only() -> None:
    from starlette.types import Message

    from amarktai.api.middleware import SecurityHeadersMiddleware

    async def app(scope: object, receive: object, send: object) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})  # type: ignore[operator]

    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {"type": "http", "path": "/"}
    await SecurityHeadersMiddleware(app, hsts=True)(scope, None, send)  # type: ignore[arg-type]
    headers = dict(sent[0]["headers"])
    assert headers[b"strict-transport-security"].startswith(b"max-age=31536000")
