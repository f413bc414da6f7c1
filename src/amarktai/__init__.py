"""Amarktai Network: self-hosted crypto trading-bot platform."""

__version__ = "0.1.0"
