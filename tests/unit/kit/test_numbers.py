from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from amarktai.kit.numbers import plain_number


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1_199_190.4, "1 199 190"),
        (1_199_191.6, "1 199 192"),
        (0.000123456789, "0,000123457"),
        (28.3145, "28,3145"),
        (30.0, "30"),
        (-3.5, "-3,5"),
        (0.0, "0"),
        (-0.0000000000001, "0"),
        (55000.0, "55 000"),
        (float("nan"), "n/a"),
    ],
)
def test_examples(value: float, text: str) -> None:
    assert plain_number(value) == text


@given(st.floats(allow_nan=False, allow_infinity=False, min_value=-1e15, max_value=1e15))
def test_never_an_exponent_and_close_to_the_value(value: float) -> None:
    text = plain_number(value)
    assert "e" not in text.lower()
    back = float(text.replace(" ", "").replace(",", "."))
    assert math.isclose(back, value, rel_tol=1e-5, abs_tol=1e-10)
