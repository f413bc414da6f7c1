"""Rerun issue 13's outside probes against a real `amarktai serve` process (uvicorn, a
fresh SQLite data dir, or AMARKTAI_DATABASE_URL when set), on 127.0.0.1 only.

Prints one line per probe and exits 1 if any fails: 50 parallel wrong logins, 10 rounds
of two parallel refreshes, a replayed TOTP code, the WebSocket after logout, a 29-digit
deposit and the ledger check, a NaN risk setting.
Run: `.venv/bin/python scripts/probe_integrity.py`.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import pyotp
from websockets.asyncio.client import connect

PASSWORD = "a long enough password 42"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def wait_ready(base: str, server: subprocess.Popen[bytes]) -> None:
    async with httpx.AsyncClient() as client:
        for _ in range(600):
            if server.poll() is not None:
                raise SystemExit(f"server exited with {server.returncode}")
            try:
                if (await client.get(f"{base}/health")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.2)
    raise SystemExit("server did not start")


async def probes(base: str) -> list[tuple[str, bool, str]]:
    out: list[tuple[str, bool, str]] = []
    async with httpx.AsyncClient(base_url=base, timeout=60) as c:
        await c.post("/api/v1/auth/register", json={"email": "p@example.com", "password": PASSWORD})
        wrong = {"email": "p@example.com", "password": "wrong password 123456"}
        codes = [
            r.status_code
            for r in await asyncio.gather(
                *(c.post("/api/v1/auth/login", json=wrong) for _ in range(50))
            )
        ]
        ok = set(codes) <= {401, 429} and codes.count(401) <= 5
        out.append(
            (
                "50 parallel wrong logins",
                ok,
                f"{codes.count(401)}x401 {codes.count(429)}x429 "
                f"{len(codes) - codes.count(401) - codes.count(429)} other",
            )
        )
        right = await c.post("/api/v1/auth/login", json={**wrong, "password": PASSWORD})
        out.append(
            ("right password while locked", right.status_code == 429, str(right.status_code))
        )

        await c.post("/api/v1/auth/register", json={"email": "r@example.com", "password": PASSWORD})
        wins = []
        for _ in range(10):
            tokens = (
                await c.post(
                    "/api/v1/auth/login", json={"email": "r@example.com", "password": PASSWORD}
                )
            ).json()
            pair = await asyncio.gather(
                *(
                    c.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
                    for _ in range(2)
                )
            )
            wins.append(sum(r.status_code == 200 for r in pair))
        out.append(("parallel refresh: one winner", wins == [1] * 10, f"winners per round {wins}"))

        await c.post("/api/v1/auth/register", json={"email": "t@example.com", "password": PASSWORD})
        t = (
            await c.post(
                "/api/v1/auth/login", json={"email": "t@example.com", "password": PASSWORD}
            )
        ).json()
        h = {"Authorization": f"Bearer {t['access_token']}"}
        secret = (await c.post("/api/v1/auth/2fa/enroll", headers=h)).json()["secret"]
        code = pyotp.TOTP(secret).now()
        await c.post("/api/v1/auth/2fa/verify", json={"code": code}, headers=h)
        again = await c.post(
            "/api/v1/auth/login", json={"email": "t@example.com", "password": PASSWORD, "otp": code}
        )
        out.append(
            ("enrolment TOTP code replayed", again.status_code == 401, str(again.status_code))
        )

        login = (
            await c.post(
                "/api/v1/auth/login", json={"email": "r@example.com", "password": PASSWORD}
            )
        ).json()
        auth = {"Authorization": f"Bearer {login['access_token']}"}
        ws_url = base.replace("http", "ws") + f"/api/v1/ws?token={login['access_token']}"
        async with connect(ws_url) as ws:
            await ws.recv()  # resume
            started = time.perf_counter()
            await c.post("/api/v1/auth/logout", headers=auth)
            closed_in = None
            try:
                while True:
                    await asyncio.wait_for(ws.recv(), timeout=2)
            except Exception:  # closed (or timed out) is what we measure
                closed_in = time.perf_counter() - started
            close_code = ws.close_code
        out.append(
            (
                "WebSocket after logout",
                close_code == 4403 and (closed_in or 9) < 1,
                f"close {close_code} after {1000 * (closed_in or 0):.0f} ms",
            )
        )

        login = await c.post(
            "/api/v1/auth/login", json={"email": "p@example.com", "password": PASSWORD}
        )
        if login.status_code == 200:
            hp = {"Authorization": f"Bearer {login.json()['access_token']}"}
        else:  # still locked from the first probe: use another account
            await c.post(
                "/api/v1/auth/register", json={"email": "d@example.com", "password": PASSWORD}
            )
            tok = (
                await c.post(
                    "/api/v1/auth/login", json={"email": "d@example.com", "password": PASSWORD}
                )
            ).json()
            hp = {"Authorization": f"Bearer {tok['access_token']}"}
        amount = "12345678901.123456789012345678"
        dep = await c.post(
            "/api/v1/wallet/deposits", json={"asset": "ZAR", "amount": amount}, headers=hp
        )
        bal = (await c.get("/api/v1/wallet/balances", headers=hp)).json()["balances"]
        cash = next(v for k, v in bal.items() if k.endswith(":cash"))["ZAR"]
        verify = (await c.get("/api/v1/ledger/verify", headers=hp)).json()
        out.append(
            (
                "29-digit deposit exact and verified",
                dep.status_code == 201
                and cash == amount
                and verify == {"ok": True, "entries": None, "first_broken": None},
                f"balance {cash}, verify {verify}",
            )
        )
        nan = await c.post(
            "/api/v1/bots",
            headers=hp,
            json={
                "name": "n",
                "strategy": "dca",
                "symbol": "BTC/ZAR",
                "risk": {"max_position_fraction": "NaN"},
            },
        )
        out.append(("NaN risk setting", nan.status_code == 422, str(nan.status_code)))
    return out


def main() -> None:
    port = free_port()
    data = Path(tempfile.mkdtemp(prefix="amarktai-probe-"))
    env = {**os.environ, "AMARKTAI_DATA_DIR": str(data), "AMARKTAI_PORT": str(port)}
    server = subprocess.Popen(
        [sys.executable, "-m", "amarktai.cli.main", "serve"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        asyncio.run(wait_ready(base, server))
        results = asyncio.run(probes(base))
    finally:
        server.terminate()
        server.wait(20)
    for name, ok, detail in results:
        print(f"{'PASS' if ok else 'FAIL'}  {name}: {detail}")
    sys.exit(0 if all(ok for _, ok, _ in results) else 1)


if __name__ == "__main__":
    main()
