"""`amarktai serve`: the whole platform in one process on the embedded default."""

from __future__ import annotations

from typing import Any

import typer
import uvicorn

from amarktai import bootstrap
from amarktai.api.app import create_app
from amarktai.cli.common import console, fail
from amarktai.config import Settings
from amarktai.kit.errors import ConfigError
from amarktai.logging_setup import configure_logging
from amarktai.runtime import Runtime, build_runtime


def server_options(settings: Settings) -> dict[str, Any]:
    """uvicorn settings every server of the app runs with (tests' live servers too).

    `ws_max_size`: uvicorn reads a frame's length from its header and closes the socket
    with 1009 before reading a payload over the cap, so a 5 MB frame is never buffered
    (uvicorn's default allows 16 MiB per message)."""
    return {"ws_max_size": settings.ws_max_message_bytes}


def serve(
    host: str = typer.Option(None, help="bind address (default AMARKTAI_HOST or 127.0.0.1)"),
    port: int = typer.Option(None, help="port (default AMARKTAI_PORT or 8000)"),
    demo: bool = typer.Option(False, "--demo", help="seed the demo user and its paper bots"),
) -> None:
    """Run API, WebSocket and engine; migrations run on start."""
    settings = Settings()
    configure_logging(settings.log_level, settings.log_json)
    try:
        runtime = build_runtime(settings)
    except ConfigError as exc:
        fail(str(exc), 2)
        return

    async def start(rt: Runtime) -> None:
        await rt.migrate()
        admin = await bootstrap.ensure_admin_from_env(rt)
        if admin:
            console.print(f"admin account: [bold]{admin}[/bold]")
        if demo:
            login = await bootstrap.ensure_demo_user(rt)
            if login.password:
                console.print(
                    f"demo login (shown once): [bold]{login.email}[/bold] / "
                    f"[bold]{login.password}[/bold]"
                )
            else:
                console.print(f"demo login: [bold]{login.email}[/bold] (password set earlier)")
            if await bootstrap.ensure_demo_bots(rt, login.email):
                console.print("demo paper bots started on the sim market")
        await bootstrap.start_engine(rt)
        await rt.jobs.recover()

    async def stop(rt: Runtime) -> None:
        await rt.close()

    app = create_app(runtime, on_startup=[start], on_shutdown=[stop])
    bind_host, bind_port = host or settings.host, port or settings.port
    console.print(f"Amarktai Network on http://{bind_host}:{bind_port}  (API docs at /docs)")
    uvicorn.run(
        app, host=bind_host, port=bind_port, log_level="warning", access_log=False,
        **server_options(settings),
    )  # fmt: skip
