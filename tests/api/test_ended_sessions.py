"""Ended sessions are announced on the bus only after their unit of work committed: the
request's after-commit hooks run on commit (also when an error kept its writes), never
after a rollback."""

from __future__ import annotations

import pytest
from tests.api.conftest import Api, auth

from amarktai.api.deps import after_commit, get_session
from amarktai.bus.messages import Revocation
from amarktai.kit.errors import Unauthorized, ValidationFailed


async def heard(api: Api) -> list[Revocation]:
    got: list[Revocation] = []
    await api.runtime.bus.subscribe_revocations(got.append)
    return got


async def test_each_way_of_ending_a_session_is_announced(api: Api) -> None:
    got = await heard(api)
    h = await api.user("a@example.com")
    second = (await api.login("a@example.com")).json()
    third = (await api.login("a@example.com")).json()
    sid = (await api.client.get("/api/v1/auth/sessions", headers=auth(h))).json()
    current = next(s["id"] for s in sid if s["current"])
    r = await api.client.delete(f"/api/v1/auth/sessions/{second['session_id']}", headers=auth(h))
    assert r.status_code == 204
    body = {"refresh_token": third["refresh_token"]}
    assert (await api.client.post("/api/v1/auth/refresh", json=body)).status_code == 200
    assert (await api.client.post("/api/v1/auth/refresh", json=body)).status_code == 401
    assert (await api.client.post("/api/v1/auth/logout", headers=auth(h))).status_code == 204
    admin = await api.user("admin@example.com", role="admin")
    r = await api.client.patch(
        f"/api/v1/admin/users/{h['id']}", json={"is_active": False}, headers=auth(admin)
    )
    assert r.status_code == 200
    assert got == [
        Revocation(h["id"], second["session_id"], "revoked"),
        Revocation(h["id"], third["session_id"], "refresh_token_reuse"),
        Revocation(h["id"], current, "logout"),
        Revocation(h["id"], None, "deactivated"),
    ]


async def test_after_commit_hooks_run_on_commit_only(api: Api) -> None:
    ran: list[str] = []

    async def run(outcome: BaseException | None) -> None:
        gen = get_session(api.runtime)
        session = await gen.__anext__()

        async def hook() -> None:
            ran.append(type(outcome).__name__ if outcome else "ok")

        after_commit(session, hook)
        if outcome is None:
            with pytest.raises(StopAsyncIteration):
                await gen.__anext__()
        else:
            with pytest.raises(type(outcome)):
                await gen.athrow(outcome)

    await run(None)
    await run(ValidationFailed("no"))  # rolled back: nothing to announce
    await run(Unauthorized().keeping_writes())  # its writes were committed
    await run(RuntimeError("boom"))
    assert ran == ["ok", "Unauthorized"]
