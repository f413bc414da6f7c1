"""App factory: one FastAPI app per Runtime, used by `amarktai serve` and by the tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI

from amarktai import __version__
from amarktai.api import errors
from amarktai.api.metrics import domain_registry
from amarktai.api.middleware import (
    BodySizeLimitMiddleware,
    RequestContextMiddleware,
    SecurityHeadersMiddleware,
)
from amarktai.api.routes import (
    admin,
    analytics,
    api_keys,
    auth,
    backtests,
    bots,
    risk,
    system,
    wallet,
    ws,
)
from amarktai.api.webfiles import WebFiles
from amarktai.runtime import Runtime

DESCRIPTION = """
Self-hosted crypto trading-bot platform. Everything lives under `/api/v1`.

* Authenticate with `POST /api/v1/auth/login` and send `Authorization: Bearer <access_token>`.
* Every error has the shape `{"error": {"code": ..., "message": ..., "details": ...}}`.
* Money is sent and returned as decimal strings; amounts are in ZAR unless an asset says otherwise.
"""

StartupHook = Callable[[Runtime], Awaitable[None]]


def create_app(
    runtime: Runtime,
    *,
    on_startup: list[StartupHook] | None = None,
    on_shutdown: list[StartupHook] | None = None,
) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        for hook in on_startup or []:
            await hook(runtime)
        try:
            yield
        finally:
            for hook in on_shutdown or []:
                await hook(runtime)

    app = FastAPI(
        title="Amarktai Network",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url="/docs",
        openapi_url="/openapi.json",
    )
    app.state.runtime = runtime
    app.state.domain_metrics = domain_registry(runtime)
    errors.install(app)
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=runtime.settings.max_body_bytes)
    app.add_middleware(RequestContextMiddleware)
    app.add_middleware(SecurityHeadersMiddleware, hsts=runtime.settings.env == "production")
    for router in (
        system.router,
        auth.router,
        api_keys.router,
        admin.router,
        bots.router,
        backtests.router,
        wallet.router,
        analytics.router,
        risk.router,
        ws.router,
    ):
        app.include_router(router)
    _mount_web(app, runtime.settings.web_dist)
    return app


def _mount_web(app: FastAPI, dist: Path | None) -> None:
    """Serve the built PWA at / when it exists (api/webfiles.py); the API works without it."""
    candidates = [dist] if dist else []
    candidates.append(Path(__file__).resolve().parents[3] / "web" / "dist")
    for folder in candidates:
        if folder and (folder / "index.html").exists():
            app.mount("/", WebFiles(directory=folder, html=True), name="web")
            return
