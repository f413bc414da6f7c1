"""Which features each role may see: an admin hides a feature for one role or for the
whole installation (PRODUCT.md §11, "admin show/hide").

A hidden feature is refused by the API (403 `feature_hidden`), not only left out of the
app's menus: a hidden button with a live endpoint behind it hides nothing. Safety
controls (the emergency stop, circuit breakers, sign-in, the admin screens) are not in
the catalogue and cannot be hidden. Features that are not built yet are listed so an
installation can be configured before they arrive; their endpoints check the same gate.
Every change is written to the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from amarktai.accounts import audit
from amarktai.accounts.models import ROLES, FeatureSetting
from amarktai.kit.errors import Forbidden, NotFound, ValidationFailed

ALL = "all"  # the whole installation, every role (admins too)
SCOPES = (ALL, *ROLES)


@dataclass(frozen=True)
class Feature:
    name: str
    label: str
    description: str


CATALOGUE: tuple[Feature, ...] = (
    Feature("backtests", "Backtests", "Backtests, the optimiser and their reports."),
    Feature(
        "risk_analytics",
        "Risk analytics",
        "Value at Risk, Monte Carlo and stress tests (circuit breakers and the emergency "
        "stop always stay).",
    ),
    Feature("exchange_keys", "Exchange API keys", "Connecting exchange accounts with API keys."),
    Feature("exports", "Exports", "CSV exports and verifiable track records."),
    Feature("live_trading", "Live trading", "Bots that trade real money on an exchange."),
    Feature("copy_trading", "Copy trading", "Following other traders' bots."),
    Feature("chat", "Chat commands", "Controlling bots from a chat."),
)
NAMES = tuple(f.name for f in CATALOGUE)
_BY_NAME = {f.name: f for f in CATALOGUE}


def feature(name: str) -> Feature:
    found = _BY_NAME.get(name)
    if found is None:
        raise NotFound(
            f"unknown feature {name!r}; the features are {', '.join(NAMES)}",
            code="unknown_feature",
        )
    return found


class Features:
    """Reads and changes the visibility table; the caller's unit of work commits."""

    def __init__(self, session: AsyncSession) -> None:
        self.s = session

    async def hidden(self) -> dict[str, frozenset[str]]:
        """scope → hidden feature names (every scope present, empty when nothing is)."""
        rows = (await self.s.execute(select(FeatureSetting.scope, FeatureSetting.feature))).all()
        out: dict[str, set[str]] = {scope: set() for scope in SCOPES}
        for scope, name in rows:
            if scope in out and name in _BY_NAME:
                out[scope].add(name)
        return {scope: frozenset(names) for scope, names in out.items()}

    async def visible_to(self, role: str) -> dict[str, bool]:
        hidden = await self.hidden()
        off = hidden[ALL] | hidden.get(role, frozenset())
        return {name: name not in off for name in NAMES}

    async def require(self, name: str, role: str) -> None:
        """403 naming who turned it off, when `name` is hidden for `role`."""
        item = feature(name)
        hidden = await self.hidden()
        if name in hidden[ALL]:
            raise Forbidden(
                f"{item.label} is turned off on this installation by its administrator",
                code="feature_hidden",
                details={"feature": name, "scope": ALL},
            )
        if name in hidden.get(role, frozenset()):
            raise Forbidden(
                f"{item.label} is turned off for the {role} role by the administrator",
                code="feature_hidden",
                details={"feature": name, "scope": role},
            )

    async def set_hidden(
        self, name: str, scope: str, hidden: bool, *, actor_id: str, now: datetime
    ) -> dict[str, frozenset[str]]:
        """Hide or show one feature for one scope; idempotent, and atomic under
        concurrent admins (an upsert on the (feature, scope) key, or a delete)."""
        feature(name)
        if scope not in SCOPES:
            raise ValidationFailed(
                f"scope must be one of {', '.join(SCOPES)}", code="invalid_feature_scope"
            )
        if hidden:
            pg = self.s.get_bind().dialect.name == "postgresql"
            insert = pg_insert if pg else sqlite_insert
            stmt = insert(FeatureSetting).values(
                feature=name, scope=scope, updated_at=now, updated_by=actor_id
            )
            await self.s.execute(
                stmt.on_conflict_do_update(
                    index_elements=["feature", "scope"],
                    set_={"updated_at": now, "updated_by": actor_id},
                )
            )
        else:
            await self.s.execute(
                delete(FeatureSetting).where(
                    FeatureSetting.feature == name, FeatureSetting.scope == scope
                )
            )
        await audit.append(
            self.s,
            "feature.visibility_changed",
            now=now,
            user_id=None,
            actor_id=actor_id,
            ip=None,
            details={"feature": name, "scope": scope, "hidden": hidden},
        )
        return await self.hidden()
