"""After start-up the live heap leaves the cyclic collector's scans; later garbage does not."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from amarktai.kit.heap import freeze_startup_heap


@pytest.fixture
def thawed() -> Iterator[None]:
    yield
    gc.unfreeze()


class _Node:
    def __init__(self) -> None:
        self.other: _Node | None = None


def test_startup_heap_is_frozen_and_later_cycles_are_still_collected(thawed: None) -> None:
    kept = [object() for _ in range(100)]
    freeze_startup_heap()
    assert gc.get_freeze_count() >= len(kept)
    a, b = _Node(), _Node()
    a.other, b.other = b, a  # a cycle made after start-up
    probe = weakref.ref(a)
    del a, b
    gc.collect()
    assert probe() is None
