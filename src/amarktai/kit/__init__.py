"""Shared building blocks with no dependency on web, database drivers or other domains."""
