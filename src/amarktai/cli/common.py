"""Helpers every command group shares: settings, runtime lifetime, error reporting."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import TypeVar

from rich.console import Console

from amarktai.config import Settings
from amarktai.kit.errors import ConfigError, DomainError
from amarktai.runtime import Runtime, build_runtime

T = TypeVar("T")
console = Console()
err_console = Console(stderr=True)


def fail(message: str, code: int = 1) -> None:
    """One line on stderr and a non-zero exit: the CLI's version of a 4xx."""
    err_console.print(f"[red]error:[/red] {message}", highlight=False)
    sys.exit(code)


def run_with_runtime(work: Callable[[Runtime], Awaitable[T]]) -> T:
    try:
        runtime = build_runtime(Settings())
    except ConfigError as exc:
        fail(str(exc), 2)
        raise  # unreachable: fail exits

    async def main() -> T:
        try:
            return await work(runtime)
        finally:
            await runtime.close()

    try:
        return asyncio.run(main())
    except DomainError as exc:
        fail(f"{exc.message} ({exc.code})")
        raise
