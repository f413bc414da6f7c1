"""Every amount the API accepts (|x| < 10^20, at most 18 decimal places: 38 significant
digits) survives a read and a hash exactly (issue 13, item 1).

Python's default decimal context keeps 28 digits; `normalize()` and `quantize()` round
in it. The read path and the hash chain's canonical text once used it while the ledger
wrote in 60 digits, so a 29-digit deposit read back as another number and its entry's
hash no longer matched.
"""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from amarktai.db.base import Money, canonical_decimal
from amarktai.kit.hashchain import canonical
from amarktai.ledger.journal import decimal_text

LIMIT = 10**38 - 1  # in units of 10^-18: the largest magnitude NUMERIC(38,18) holds


def accepted() -> st.SearchStrategy[Decimal]:
    """Amounts at the limits of the accepted range, as the API would parse them."""
    units = st.one_of(
        st.integers(-LIMIT, LIMIT),
        st.integers(LIMIT - 10**6, LIMIT),  # the top of the range
        st.integers(-(10**30), 10**30).map(lambda n: n * 10**8),  # many trailing zeros
    )
    scaled = st.builds(lambda n: Decimal(f"{n}E-18"), units)  # exact: scaleb would round
    coarse = st.builds(  # fewer decimal places, still within 10^20
        lambda n, e: Decimal(f"{'-' if n < 0 else ''}{abs(n) % 10 ** (20 + e)}E-{e}"),
        st.integers(-(10**38) + 1, 10**38 - 1),
        st.integers(0, 18),
    )
    return scaled | coarse


@given(accepted())
def test_canonical_decimal_is_exact_and_plain(value: Decimal) -> None:
    for text in (format(value, "f"), str(value)):
        out = canonical_decimal(Decimal(text))
        assert out == value  # Decimal == compares exactly, whatever the digits
        assert out.as_tuple().exponent <= 0  # type: ignore[operator]  # no 1E+3 form


@given(accepted())
def test_hash_text_equals_the_ledger_writers_text(value: Decimal) -> None:
    assert canonical({"a": value}) == '{"a":"' + decimal_text(value) + '"}'


@given(accepted())
def test_money_reads_back_what_it_binds_on_both_dialects(value: Decimal) -> None:
    from sqlalchemy.dialects import postgresql, sqlite

    for dialect in (sqlite.dialect(), postgresql.dialect()):
        bound = Money().process_bind_param(value, dialect)
        # asyncpg hands NUMERIC back as a Decimal, SQLite as the stored text
        read = Money().process_result_value(bound, dialect)
        assert read == value


def test_the_issue_case() -> None:
    value = Decimal("12345678901.123456789012345678")
    assert str(canonical_decimal(value)) == "12345678901.123456789012345678"
    assert canonical_decimal(Decimal("1E+19")) == Decimal(10**19)
    assert str(canonical_decimal(Decimal("1E+19"))) == "10000000000000000000"
