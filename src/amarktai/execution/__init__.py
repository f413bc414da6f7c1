"""Orders, fills and paper execution (public and verified fill models)."""

from amarktai.execution.orders import Fill, Order, apply_fill, new_order, transition, validate_order
from amarktai.execution.paper import (
    Execution,
    FillModel,
    MarketState,
    PaperVenue,
    PublicPaperFillModel,
    VerifiedPaperFillModel,
    walk_book,
)

__all__ = [
    "Execution",
    "Fill",
    "FillModel",
    "MarketState",
    "Order",
    "PaperVenue",
    "PublicPaperFillModel",
    "VerifiedPaperFillModel",
    "apply_fill",
    "new_order",
    "transition",
    "validate_order",
    "walk_book",
]
