"""Bot runtime: lifecycle, the engine loop that turns strategy decisions into paper orders,
decision traces, and the persistence of orders and fills (with their ledger postings)."""
