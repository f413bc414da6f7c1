"""Bot lifecycle state machine (pure).

created → running ⇄ paused → stopped. `halted` (circuit breaker), `quarantined`
(self-healing) and `errored` (strategy crash) are set by the platform with a reason; a
user can stop such a bot, and restart an errored one, but halted and quarantined bots
need their breaker reset or their quarantine released first.
"""

from __future__ import annotations

from typing import Literal

from amarktai.kit.errors import Conflict

BotStatus = Literal["created", "running", "paused", "stopped", "halted", "quarantined", "errored"]
Action = Literal["start", "pause", "stop", "halt", "quarantine", "error", "release"]

STATUSES: tuple[BotStatus, ...] = (
    "created",
    "running",
    "paused",
    "stopped",
    "halted",
    "quarantined",
    "errored",
)
USER_ACTIONS: tuple[Action, ...] = ("start", "pause", "stop")

_TRANSITIONS: dict[Action, dict[BotStatus, BotStatus]] = {
    "start": {
        "created": "running",
        "paused": "running",
        "stopped": "running",
        "errored": "running",
    },
    "pause": {"running": "paused"},
    "stop": {s: "stopped" for s in STATUSES if s != "stopped"},
    "halt": {"running": "halted", "paused": "halted"},
    "quarantine": {"running": "quarantined", "paused": "quarantined", "halted": "quarantined"},
    "error": {"running": "errored"},
    "release": {"halted": "paused", "quarantined": "paused"},
}


def next_status(current: str, action: Action) -> BotStatus:
    table = _TRANSITIONS[action]
    if current not in table:
        allowed = sorted(a for a, t in _TRANSITIONS.items() if current in t and a in USER_ACTIONS)
        can = f" You can {' or '.join(allowed)} it." if allowed else ""
        raise Conflict(
            f"Cannot {action} a bot that is {current}.{can}{_WAY_OUT.get(current, '')}",
            code="invalid_bot_transition",
            details={
                "current_status": current,
                "action": action,
                "allowed": allowed,
                "hint": _WAY_OUT.get(current, "").strip() or None,
            },
        )
    return table[current]


# The way out of the states the platform sets, said where a user meets the refusal.
_WAY_OUT = {
    "halted": (
        " A circuit breaker halted it: reset the breaker (Risk → Circuit breakers, or "
        "POST /api/v1/risk/breakers/reset) and it becomes paused, ready to start again."
    ),
    "quarantined": " The platform quarantined it after repeated failures; it can only be stopped.",
}


def is_trading(status: str) -> bool:
    """Only running bots place orders."""
    return status == "running"
