"""`Money`'s fast SQLite bind processor writes exactly the text the generic TypeDecorator
path writes (what every stored amount and every ledger row already holds)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import TypeDecorator
from sqlalchemy.dialects import postgresql, sqlite

from amarktai.db.base import Money

SQLITE = sqlite.dialect()
FAST = Money()._cached_bind_processor(SQLITE)
# The generic path: TypeDecorator's own processor, wrapping `process_bind_param`.
GENERIC = TypeDecorator.bind_processor(Money().dialect_impl(SQLITE), SQLITE)


@given(
    st.one_of(
        st.decimals(allow_nan=False, allow_infinity=False),
        st.integers(),
        st.floats(allow_nan=False, allow_infinity=False),
        st.none(),
    )
)
def test_same_text_as_the_generic_path(value: Any) -> None:
    assert FAST is not None and GENERIC is not None
    assert FAST(value) == GENERIC(value)


def test_exponents_and_trailing_zeros_keep_their_text() -> None:
    assert FAST is not None
    assert FAST(Decimal("1E+3")) == "1000"
    assert FAST(Decimal("1.00")) == "1.00"
    assert FAST(Decimal("-0.000000001")) == "-0.000000001"


def test_postgresql_keeps_the_decimal() -> None:
    process = Money()._cached_bind_processor(postgresql.dialect())
    value = Decimal("1.50")
    assert (process(value) if process else value) == value
