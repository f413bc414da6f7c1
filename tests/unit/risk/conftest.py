"""Reference fixtures from QUANT_REFERENCE (shipped as files: RNG streams are not stable)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from benchmarks.shared_data import find_shared_data_dir


@pytest.fixture(scope="session")
def shared_data() -> Path:
    return find_shared_data_dir()


@pytest.fixture(scope="session")
def ref_returns(shared_data: Path) -> np.ndarray:
    path = shared_data / "reference" / "var_returns_seed42_t4.csv"
    returns = np.genfromtxt(path, delimiter=",", skip_header=1, usecols=1)
    assert returns.size == 1000
    assert returns.sum() == pytest.approx(-0.790404941695644, abs=1e-15)
    return returns


@pytest.fixture(scope="session")
def var_ref(shared_data: Path) -> dict[str, Any]:
    return json.loads((shared_data / "reference" / "var_ref.json").read_text())


@pytest.fixture(scope="session")
def misc_ref(shared_data: Path) -> dict[str, Any]:
    return json.loads((shared_data / "reference" / "misc_ref.json").read_text())
