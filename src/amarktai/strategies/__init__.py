"""Strategy API, indicators, built-in strategies and their registry."""
