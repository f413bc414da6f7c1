"""Immutable double-entry ledger: journal entries, postings, hash chain, balances, capital."""
