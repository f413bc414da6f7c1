"""Decimal money helpers: money never goes through float."""

from __future__ import annotations

from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Context, Decimal, InvalidOperation

from amarktai.kit.errors import InvalidNumber

ZERO = Decimal(0)
# Wide enough that normalising or re-quantising any amount the platform stores (at most
# 38 significant digits: NUMERIC(38,18)) or hashes (the ledger computes in 60) is exact.
# The thread's default context keeps 28 digits and silently rounds beyond them.
EXACT = Context(prec=60, rounding=ROUND_HALF_EVEN)
# The largest magnitude a stored amount may reach (NUMERIC(38,18): 20 integer digits).
MAX_AMOUNT = Decimal(10) ** 20


def to_decimal(value: object) -> Decimal:
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, float):
        result = Decimal(repr(value))
    else:
        try:
            result = Decimal(str(value))
        except InvalidOperation as exc:
            raise InvalidNumber(f"not a number: {value!r}") from exc
    if not result.is_finite():
        raise InvalidNumber(f"not a finite number: {value!r}")
    return result


def quantize_down(value: Decimal, step: Decimal) -> Decimal:
    """Round toward zero onto a grid of `step` (exchange quantity precision)."""
    if step <= 0:
        return value
    return (value / step).to_integral_value(rounding=ROUND_DOWN) * step


def round_money(value: Decimal, places: int = 2) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN)


def format_money(value: Decimal, asset: str = "ZAR") -> str:
    """Money in a sentence, in the web app's convention (en-ZA): `R 1 234,56`, and other
    assets to at most 8 decimals, `0,0005 BTC`. One format everywhere, so a message from
    the server reads like the screen around it."""
    if asset == "ZAR":
        sign = "-" if value < 0 else ""
        return f"{sign}R {_grouped(round_money(value.copy_abs()), 2)}"
    exact = value.quantize(Decimal(1).scaleb(-8), rounding=ROUND_HALF_EVEN, context=EXACT)
    text = _grouped(exact.copy_abs(), 8).rstrip("0").rstrip(",")
    return f"{'-' if value < 0 else ''}{text} {asset}"


def _grouped(value: Decimal, places: int) -> str:
    whole, _, fraction = f"{value:,.{places}f}".partition(".")
    whole = whole.replace(",", " ")
    return f"{whole},{fraction}" if fraction else whole


def format_zar(value: Decimal) -> str:
    return format_money(value, "ZAR")
