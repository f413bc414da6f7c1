"""Venue connectors: one async `ExchangeClient` interface (`client.py`), typed venue
errors (`errors.py`), a per-venue request budget (`budget.py`) and safe retries
(`retry.py`); implementations live one per module beside them."""
