"""These tests name shared-data files (``daily/...``): point the product at that folder
explicitly, as a user would with $AMARKTAI_SHARED_DATA (the product never looks for it)."""

from __future__ import annotations

import pytest
from benchmarks.shared_data import find_shared_data_dir


@pytest.fixture(autouse=True)
def shared_files(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AMARKTAI_SHARED_DATA", str(find_shared_data_dir()))
