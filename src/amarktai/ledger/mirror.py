"""Running balances kept in memory between transactions, proven current by the chain tip.

The engine reads the same few hundred balances at every candle close. Re-reading them is
the biggest query of a close, yet almost always returns what the engine itself wrote
last time. A ``BalanceMirror`` keeps them, together with the chain tip they are valid
at, and at each read (under the ledger chain lock) checks the tip:

* unchanged: nothing was posted since, so every mirrored balance is exact — no query;
* moved on: someone else posted (an allocation, a withdrawal, another process); the
  postings after the mirrored tip carry the new running balances of exactly the keys
  they touched, and are applied;
* moved back or forked (a restored database): everything is forgotten and re-read.

Within one transaction the mirror is read once for the tip; writes of that transaction
must go through ``LedgerService.post_fills(mirror=...)``, which stages the batch's
balances, and they become the mirror's only when the caller reports the commit
(``end(committed=True)``). A rolled-back transaction leaves the mirror as it was, which
is still the database's state. The ledger stays the source of truth: the mirror never
decides anything the database does not also say.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from amarktai.ledger.repository import ChainTip, LedgerRepository, UserKey

MAX_DELTA = 5_000  # entries; beyond this a full re-read is cheaper than applying them


class BalanceMirror:
    def __init__(self) -> None:
        self._values: dict[UserKey, Decimal | None] = {}
        self._tip: ChainTip | None = None
        self._valid = False
        self._session: AsyncSession | None = None
        self._staged: tuple[dict[UserKey, Decimal | None], ChainTip | None] | None = None

    @property
    def tip(self) -> ChainTip | None:
        return self._tip

    async def read(
        self, repo: LedgerRepository, keys: Iterable[UserKey]
    ) -> dict[UserKey, Decimal | None]:
        """Current balances of `keys` (None = never posted). Call with the chain lock held."""
        if self._session is not repo.session:  # first read of this transaction
            await self._sync(repo)
            self._session = repo.session
        wanted = list(dict.fromkeys(keys))
        missing = [key for key in wanted if key not in self._values]
        if missing:
            self._values.update(await repo.latest_balances_many(missing))
        return {key: self._values[key] for key in wanted}

    async def _sync(self, repo: LedgerRepository) -> None:
        tip = await repo.tip()
        mine = self._tip
        if self._valid and tip is not None and mine is not None and mine.seq <= tip.seq:
            if tip.seq == mine.seq:
                keep = tip.hash == mine.hash
            else:  # others posted since: apply their running balances, if still our chain
                keep = tip.seq - mine.seq <= MAX_DELTA and await repo.hash_at(mine.seq) == mine.hash
                if keep:
                    for key, balance in (await repo.balances_after(mine.seq)).items():
                        if key in self._values:
                            self._values[key] = balance
        else:
            keep = False
        if not keep:
            self._values.clear()
        self._tip, self._valid = tip, True

    def stage(self, balances: dict[UserKey, Decimal | None], tip: ChainTip | None) -> None:
        """What this transaction's batch leaves, applied once the commit is reported."""
        self._staged = (dict(balances), tip)

    def end(self, *, committed: bool) -> None:
        """The transaction that read the mirror is over."""
        if committed and self._staged is not None:
            balances, tip = self._staged
            self._values.update(balances)
            self._tip = tip
        self._staged, self._session = None, None

    def forget(self) -> None:
        """Drop everything: the next read re-reads from the database."""
        self._values.clear()
        self._valid, self._staged = False, None
