"""Import every domain's tables so Alembic and tests see one complete metadata."""

from amarktai.accounts import models as _accounts  # noqa: F401
from amarktai.db.base import Base

__all__ = ["Base"]
