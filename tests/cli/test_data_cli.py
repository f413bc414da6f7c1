"""`amarktai data import | list | download` as an operator runs them (real processes; the
download through a stand-in venue registered in-process, since no connector ships yet)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from amarktai.cli.main import app
from amarktai.marketdata.download import register_connector
from amarktai.marketdata.importer import read_candle_file
from amarktai.marketdata.store import CandleStore, SeriesKey

SHARED = Path(__file__).parents[3] / "shared" / "data"
AMARKTAI = [sys.executable, "-m", "amarktai.cli.main"]


def run(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "AMARKTAI_DATA_DIR": str(data), "COLUMNS": "200"}
    env.pop("AMARKTAI_MARKET_DIR", None)
    env.pop("AMARKTAI_SHARED_DATA", None)
    return subprocess.run([*AMARKTAI, *args], env=env, capture_output=True, text=True,
                          timeout=60, check=False)  # fmt: skip


def test_import_a_folder_then_list(tmp_path: Path) -> None:
    data = tmp_path / "var"
    r = run(data, "data", "import", str(SHARED / "intraday"))
    assert r.returncode == 0, r.stderr
    assert "ETH_BTC-5m.feather -> imported/ETH-BTC/5m: 5760 rows, 5760 new" in r.stdout
    # the real renamed 1m file has gaps: stored as they are, reported, never filled
    assert "UNITTEST-BTC/1m" in r.stdout and "bars missing (not filled)" in r.stdout
    store = CandleStore(data / "market")
    eth_btc = store.read(SeriesKey.parse("imported/ETH-BTC/5m"))
    arrays, _ = read_candle_file(SHARED / "intraday" / "ETH_BTC-5m.feather")
    assert np.array_equal(eth_btc.close, arrays.close)
    r = run(data, "data", "import", str(SHARED / "daily" / "binance_daily_Bitcoin.csv"),
            "--exchange", "binance")  # fmt: skip
    assert r.returncode == 0 and "binance/BTC-USDT/1d: 1792 rows, 1792 new" in r.stdout
    again = run(data, "data", "import", str(SHARED / "daily" / "binance_daily_Bitcoin.csv"),
                "--exchange", "binance")  # fmt: skip
    assert "1792 rows, 0 new" in again.stdout  # idempotent
    listing = run(data, "data", "list")
    assert listing.returncode == 0
    lines = listing.stdout.splitlines()
    assert any("binance/BTC-USDT/1d" in line and "store" in line for line in lines)
    assert any("binance/BTC-USDT/1h" in line and "sample" in line for line in lines)
    assert not any("binance/BTC-USDT/1d" in line and "sample" in line for line in lines)


def test_import_refuses_what_is_not_candles(tmp_path: Path) -> None:
    bad = tmp_path / "notes.csv"
    bad.write_text("a,b\n1,2\n")
    r = run(tmp_path / "var", "data", "import", str(bad))
    assert r.returncode == 1 and "skipped" in r.stdout and "nothing imported" in r.stderr


def test_download_from_an_unknown_venue_says_so(tmp_path: Path) -> None:
    r = run(tmp_path / "var", "data", "download", "--exchange", "kraken", "--symbol", "BTC/USD",
            "--since", "2024-01-01")  # fmt: skip
    assert r.returncode == 1
    assert "unknown venue 'kraken'" in r.stderr


class FileVenue:
    """Stand-in remote venue serving a recorded Binance file (see test_download.py)."""

    venue = "standin"

    def __init__(self, path: Path) -> None:
        self.arrays, _ = read_candle_file(path)

    async def ohlcv(self, symbol: str, timeframe_s: int, since: object = None,
                    limit: int = 500) -> list[object]:  # fmt: skip
        start = int(since.timestamp() * 1000)  # type: ignore[attr-defined]
        lo = int(np.searchsorted(self.arrays.ts, start, "left"))
        return self.arrays.take(slice(lo, lo + limit)).to_candles(symbol, timeframe_s)  # type: ignore[return-value]

    async def close(self) -> None:
        return None


def test_download_with_progress_bar_and_resume(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AMARKTAI_MARKET_DIR", str(tmp_path / "market"))
    daily = SHARED / "daily" / "binance_daily_Ethereum.csv"
    register_connector("standin", lambda: FileVenue(daily))  # type: ignore[arg-type, return-value]
    args = ["data", "download", "--exchange", "standin", "--symbol", "ETH/USDT",
            "--timeframe", "1d", "--since", "2021-01-01", "--until", "2022-01-01"]  # fmt: skip
    first = CliRunner().invoke(app, args)
    assert first.exit_code == 0, first.output
    assert "100%" in first.output  # the progress bar ran to the end
    text = " ".join(first.output.split())
    assert "standin/ETH-USDT/1d: 365 candles in 1 requests, 365 new, 365 stored" in text
    args[-1] = "2022-02-01"
    second = " ".join(CliRunner().invoke(app, args).output.split())
    assert "31 candles in 1 requests, 31 new, 396 stored" in second
    assert "continued after 2021-12-31" in second
