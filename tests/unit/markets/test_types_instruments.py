from datetime import UTC, datetime
from decimal import Decimal as D

import pytest

from amarktai.kit.errors import NotFound, ValidationFailed
from amarktai.markets import BookLevel, OrderBook, check_order, default_registry

T0 = datetime(2026, 1, 1, tzinfo=UTC)
BTC = default_registry().get("sim", "BTC/ZAR")


@pytest.mark.parametrize(
    ("qty", "price", "code", "numbers"),
    [
        (D("0.00005"), D("1200000"), "below_min_qty", ["0.00005", "0.0001"]),
        (D("0.0001"), D("50000"), "below_min_notional", ["5.0000", "10"]),
        (D("0.000000001"), D("1200000"), "off_precision_qty", ["0.000000001", "0.00000001"]),
        (D("0.001"), D("1200000.5"), "off_precision_price", ["1200000.5", "1"]),
    ],
)
def test_rules_name_rule_and_numbers(qty: D, price: D, code: str, numbers: list[str]) -> None:
    with pytest.raises(ValidationFailed) as err:
        check_order(BTC, qty, price)
    assert err.value.code == code
    assert "BTC/ZAR" in err.value.message
    for n in numbers:
        assert n in err.value.message


def test_valid_order_passes_and_rounding_goes_down() -> None:
    BTC.check_order(D("0.001"), D("1200000"))
    assert BTC.round_qty(D("0.123456789")) == D("0.12345678")
    assert BTC.round_price(D("1200000.9")) == D("1200000")


def test_registry_prices_are_realistic_and_unknown_is_404() -> None:
    reg = default_registry()
    assert {i.symbol for i in reg.for_exchange("sim")} == {"BTC/ZAR", "ETH/ZAR", "XRP/ZAR"}
    assert reg.get("replay", "ETH/BTC").quote == "BTC"
    with pytest.raises(NotFound) as err:
        reg.get("sim", "DOGE/ZAR")
    assert err.value.code == "unknown_instrument"


def test_book_accessors_and_ordering_checks() -> None:
    book = OrderBook(
        T0, "X/Y", (BookLevel(D(99), D(1)), BookLevel(D(98), D(2))), (BookLevel(D(101), D(1)),)
    )
    assert (book.best_bid, book.best_ask, book.mid, book.spread) == (D(99), D(101), D(100), D(2))
    with pytest.raises(ValidationFailed, match="strictly descending"):
        OrderBook(T0, "X/Y", (BookLevel(D(98), D(1)), BookLevel(D(99), D(1))), ())
    with pytest.raises(ValidationFailed, match="crossed"):
        OrderBook(T0, "X/Y", (BookLevel(D(101), D(1)),), (BookLevel(D(100), D(1)),))
    empty = OrderBook(T0, "X/Y", (), ())
    assert empty.mid is None and empty.best_bid is None
