"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from amarktai import __version__
from amarktai.api.deps import RuntimeDep
from amarktai.api.metrics import read_snapshot
from amarktai.db.migrate import current_revision, head_revision

router = APIRouter(tags=["system"])


@router.get("/health", summary="Liveness: the process is up")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/ready",
    summary="Readiness: database reachable and migrations current",
    responses={503: {"description": "not ready; `checks` says which part failed"}},
)
async def ready(runtime: RuntimeDep) -> JSONResponse:
    checks: dict[str, str] = {}
    try:
        async with runtime.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        checks["database"] = "ok"
        current, head = await current_revision(runtime.engine), head_revision()
        checks["migrations"] = "ok" if current == head else f"at {current}, head is {head}"
    except Exception as exc:  # readiness reports any failure instead of raising
        checks["database"] = f"unreachable: {type(exc).__name__}"
    ok = all(v == "ok" for v in checks.values()) and "migrations" in checks
    body = {"status": "ready" if ok else "not_ready", "checks": checks, "version": __version__}
    return JSONResponse(body, status_code=200 if ok else 503)


@router.head("/metrics", include_in_schema=False)  # monitors probe with HEAD
@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "text exposition"}},
)
async def metrics(request: Request, runtime: RuntimeDep) -> Response:
    """HTTP and process series, and the platform's own: bots by state, jobs by state,
    active breaker trips, engine closes, decisions, fills, close latency and feed lag,
    WebSocket clients, their deepest queue and deliveries."""
    registry, collector = request.app.state.domain_metrics
    async with runtime.sessions() as session:
        collector.snapshot = await read_snapshot(session)
    body = generate_latest() + generate_latest(registry)
    return Response(b"" if request.method == "HEAD" else body, media_type=CONTENT_TYPE_LATEST)
