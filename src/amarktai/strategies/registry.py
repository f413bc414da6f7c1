"""Name → strategy class lookup, and the catalogue the API and optimiser read."""

from __future__ import annotations

from typing import Any

from amarktai.kit.errors import NotFound, ValidationFailed
from amarktai.strategies.base import Strategy
from amarktai.strategies.builtin.bollinger_breakout import BollingerBreakout
from amarktai.strategies.builtin.dca import Dca
from amarktai.strategies.builtin.grid import Grid
from amarktai.strategies.builtin.macd import Macd
from amarktai.strategies.builtin.rsi_reversion import RsiReversion
from amarktai.strategies.builtin.sma_cross import SmaCross

_REGISTRY: dict[str, type[Strategy]] = {
    cls.name: cls for cls in (SmaCross, RsiReversion, BollingerBreakout, Macd, Dca, Grid)
}


def register(cls: type[Strategy]) -> type[Strategy]:
    """Add a strategy (e.g. Alpha Fusion) under its ``name``; refuses to shadow another."""
    existing = _REGISTRY.get(cls.name)
    if existing is not None and existing is not cls:
        raise ValidationFailed(
            f"strategy name '{cls.name}' is already taken", code="duplicate_strategy"
        )
    _REGISTRY[cls.name] = cls
    return cls


def unregister(name: str) -> None:
    """Remove a strategy registered at run time (plug-ins, tests); built-ins stay."""
    _REGISTRY.pop(name, None)


def get_strategy(name: str) -> type[Strategy]:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise NotFound(
            f"unknown strategy '{name}'; available: {sorted(_REGISTRY)}",
            code="unknown_strategy",
            details={"strategy": name},
        ) from None


def create_strategy(name: str, params: dict[str, Any] | None = None) -> Strategy:
    """Look up and instantiate with validated params (``invalid_parameter`` on bad input)."""
    return get_strategy(name)(params or {})


def list_strategies() -> list[dict[str, Any]]:
    """JSON-serialisable catalogue: name, description, whether a vectorised path exists, params."""
    return [
        {
            "name": cls.name,
            "description": cls.description,
            "vectorised": cls.signals is not Strategy.signals,
            "params": cls.params_schema(),
        }
        for cls in sorted(_REGISTRY.values(), key=lambda c: c.name)
    ]
