"""Domain series for /metrics beside the HTTP and process ones: what an operator watches
on a trading platform (bots by state, decisions and fills, candle-close latency, feed
lag, breaker trips, WebSocket clients and lag, job queue depth).

In-memory figures (the engine's and the hub's) are read at scrape time by a collector;
the database figures are counted by the /metrics route just before. Each app has its own
registry, so building several apps in one process (tests) never registers a name twice.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from amarktai.engine.models import Bot
from amarktai.engine.runner import CLOSE_BUCKETS
from amarktai.jobs.models import Job
from amarktai.realtime.hub import deepest_queue
from amarktai.risk.models import RiskEvent
from amarktai.runtime import Runtime


@dataclass
class Snapshot:
    """Counts read from the database at the last scrape."""

    bots: dict[str, int] = field(default_factory=dict)
    jobs: dict[str, int] = field(default_factory=dict)
    active_trips: dict[str, int] = field(default_factory=dict)


async def read_snapshot(session: AsyncSession) -> Snapshot:
    bots = await session.execute(select(Bot.status, func.count()).group_by(Bot.status))
    jobs = await session.execute(select(Job.status, func.count()).group_by(Job.status))
    trips = await session.execute(
        select(RiskEvent.scope, func.count())
        .where(RiskEvent.active.is_(True))
        .group_by(RiskEvent.scope)
    )
    return Snapshot(
        bots={str(k): int(v) for k, v in bots.all()},
        jobs={str(k): int(v) for k, v in jobs.all()},
        active_trips={str(k): int(v) for k, v in trips.all()},
    )


class DomainCollector(Collector):
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.snapshot = Snapshot()

    def collect(self) -> Iterator[Metric]:
        yield from self._database()
        yield from self._engine()
        yield from self._hub()

    def _database(self) -> Iterator[Metric]:
        bots = GaugeMetricFamily("amarktai_bots", "Bots by lifecycle state", labels=["status"])
        for status, count in sorted(self.snapshot.bots.items()):
            bots.add_metric([status], count)
        yield bots
        jobs = GaugeMetricFamily("amarktai_jobs", "Background jobs by state", labels=["status"])
        for status, count in sorted(self.snapshot.jobs.items()):
            jobs.add_metric([status], count)
        yield jobs
        trips = GaugeMetricFamily(
            "amarktai_breaker_trips_active",
            "Active circuit-breaker trips and emergency stops by level",
            labels=["scope"],
        )
        for scope, count in sorted(self.snapshot.active_trips.items()):
            trips.add_metric([scope], count)
        yield trips

    def _engine(self) -> Iterator[Metric]:
        engine = self.runtime.trading
        if engine is None:  # an API process without the engine
            return
        st = engine.stats
        yield CounterMetricFamily(
            "amarktai_engine_candle_closes", "Candle closes decided", value=st.closes
        )
        yield CounterMetricFamily(
            "amarktai_engine_decisions", "Bot decisions taken", value=st.decisions
        )
        yield CounterMetricFamily("amarktai_engine_fills", "Paper fills booked", value=st.fills)
        yield CounterMetricFamily(
            "amarktai_engine_market_events", "Market events taken", value=engine.events_seen
        )
        yield CounterMetricFamily(
            "amarktai_engine_feed_restarts", "Market feeds replaced", value=engine.feed_restarts
        )
        cumulative, buckets = 0, []
        for bound, count in zip(CLOSE_BUCKETS, st.close_buckets, strict=True):
            cumulative += count
            buckets.append((repr(bound), cumulative))
        buckets.append(("+Inf", st.closes))
        yield HistogramMetricFamily(
            "amarktai_engine_close_seconds",
            "Time to decide and commit one candle close for every bot on it",
            buckets=buckets,
            sum_value=st.close_seconds_sum,
        )
        yield GaugeMetricFamily(
            "amarktai_engine_feed_lag_seconds",
            "Wall time past the end of the last closed candle when it was decided",
            value=st.feed_lag_s,
        )

    def _hub(self) -> Iterator[Metric]:
        hub = self.runtime.hub
        yield GaugeMetricFamily(
            "amarktai_ws_clients", "Open WebSocket connections", value=hub.stats.connections
        )
        yield GaugeMetricFamily(
            "amarktai_ws_queue_depth_max",
            "Messages waiting for the slowest WebSocket client",
            value=deepest_queue(hub),
        )
        yield CounterMetricFamily(
            "amarktai_ws_delivered", "Messages sent to WebSocket clients", value=hub.stats.delivered
        )
        yield CounterMetricFamily(
            "amarktai_ws_slow_closes",
            "Connections closed as slow consumers (4008)",
            value=hub.stats.overflows,
        )


def domain_registry(runtime: Runtime) -> tuple[CollectorRegistry, DomainCollector]:
    registry = CollectorRegistry(auto_describe=True)
    collector = DomainCollector(runtime)
    registry.register(collector)
    return registry, collector
