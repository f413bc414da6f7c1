"""Import every domain's tables so Alembic and tests see one complete metadata."""

from amarktai.accounts import models as _accounts  # noqa: F401
from amarktai.db.base import Base
from amarktai.engine import models as _engine  # noqa: F401
from amarktai.jobs import models as _jobs  # noqa: F401
from amarktai.ledger import models as _ledger  # noqa: F401
from amarktai.risk import models as _risk  # noqa: F401

__all__ = ["Base"]
