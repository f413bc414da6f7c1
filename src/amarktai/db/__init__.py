"""Database adapter: engine/session factory, column types, Alembic migrations."""
