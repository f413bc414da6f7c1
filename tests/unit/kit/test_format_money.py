"""Server sentences format money as the web app does (en-ZA): `R 1 234,56`."""

from __future__ import annotations

from decimal import Decimal

import pytest

from amarktai.kit.money import format_money, format_zar


@pytest.mark.parametrize(
    ("value", "asset", "text"),
    [
        ("1234.56", "ZAR", "R 1 234,56"),
        ("0", "ZAR", "R 0,00"),
        ("-5000", "ZAR", "-R 5 000,00"),
        ("24995.6", "ZAR", "R 24 995,60"),
        ("0.005", "ZAR", "R 0,00"),  # half to even, as round_money
        ("12345678901.123456789012345678", "ZAR", "R 12 345 678 901,12"),
        ("0.0005", "BTC", "0,0005 BTC"),
        ("12345.123456789", "BTC", "12 345,12345679 BTC"),
        ("3", "BTC", "3 BTC"),
        ("-0.1", "ETH", "-0,1 ETH"),
        ("1E-8", "BTC", "0,00000001 BTC"),
    ],
)
def test_one_money_format(value: str, asset: str, text: str) -> None:
    assert format_money(Decimal(value), asset) == text


def test_format_zar_is_the_same_format() -> None:
    assert format_zar(Decimal("1234.5")) == "R 1 234,50"
