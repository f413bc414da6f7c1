"""The local venue server for integration tests: started per test on a free port."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from tests.integration.venue_support import Venue, start_venue

from amarktai.exchanges.valr import ValrClient


@pytest.fixture
def venue() -> Iterator[Venue]:
    served, venue = start_venue()
    try:
        yield venue
    finally:
        served.stop()


@pytest.fixture
async def valr(venue: Venue) -> AsyncIterator[ValrClient]:
    client = venue.client()
    yield client
    await client.close()
