"""The market-data store: candles kept locally, one Arrow file per venue/symbol/timeframe.

Everything that needs price history (backtests, VaR/Monte Carlo return history, stress
tests, the replay market) reads candles through this package: first the user's store
under the data dir (filled by `amarktai data download` and `amarktai data import`), then
the small sample shipped inside the package, so a fresh clone with no network and no
shared data folder still has working risk figures, backtests and demo.

Modules: ``store`` (the files, the cleaning of a batch and its report), ``sources``
(where the stores are and which series answers a request), ``importer`` (CSV, feather/Arrow,
Parquet and JSON files), ``download`` (incremental, resumable download through any
``ExchangeClient``).
"""
