"""The real app over ASGI, on a freshly migrated database (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.pool import NullPool
from tests.support import truncate_all

from amarktai.accounts.passwords import Passwords
from amarktai.api.app import create_app
from amarktai.config import Settings
from amarktai.db.engine import make_engine
from amarktai.kit.clock import ManualClock
from amarktai.runtime import Runtime, build_runtime

PASSWORD = "correct horse battery"


@dataclass
class Api:
    client: httpx.AsyncClient
    runtime: Runtime
    clock: ManualClock

    async def register(self, email: str, password: str = PASSWORD) -> dict[str, Any]:
        r = await self.client.post(
            "/api/v1/auth/register", json={"email": email, "password": password}
        )
        assert r.status_code == 201, r.text
        return dict(r.json())

    async def login(self, email: str, password: str = PASSWORD, **extra: Any) -> httpx.Response:
        return await self.client.post(
            "/api/v1/auth/login", json={"email": email, "password": password, **extra}
        )

    async def user(self, email: str, role: str | None = None) -> dict[str, str]:
        """Register (optionally with a role) and log in; returns auth headers and ids."""
        info = await self.register(email)
        if role:
            from amarktai.db.engine import transaction

            async with transaction(self.runtime.sessions) as s:
                user = await self.runtime.accounts(s).repo.user(info["id"])
                assert user is not None
                user.role = role
        r = await self.login(email)
        assert r.status_code == 200, r.text
        body = r.json()
        return {
            "Authorization": f"Bearer {body['access_token']}",
            "refresh": body["refresh_token"],
            "id": info["id"],
        }


def auth(h: dict[str, str]) -> dict[str, str]:
    return {"Authorization": h["Authorization"]}


@pytest.fixture
async def api(db_url: str, tmp_path: Path) -> AsyncIterator[Api]:
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=db_url,
        env="test",
        max_body_bytes=64 * 1024,
    )
    clock = ManualClock(datetime.now(UTC))
    engine = make_engine(db_url, poolclass=NullPool) if db_url.startswith("postgres") else None
    if engine is not None:
        await truncate_all(engine)
    runtime = build_runtime(
        settings, clock=clock, passwords=Passwords(time_cost=1, memory_kib=1024), engine=engine
    )
    app = create_app(runtime)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield Api(client, runtime, clock)
    await runtime.close()
