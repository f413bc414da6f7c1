"""Local stand-ins for remote venues, served on 127.0.0.1 for tests, demos and benchmarks.

`core` holds what every venue has (accounts, books, orders, matching, fees, limits,
fault switches); each dialect module (`valr_server`, …) speaks one venue's wire protocol
over it, so our real connectors run unchanged against it. Nothing here is used in live
trading, and nothing here imports the API or CLI layers.
"""
