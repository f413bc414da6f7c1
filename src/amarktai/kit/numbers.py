"""Numbers in sentences people read (decision traces, reasons): the app's en-ZA
convention (`1 199 190`, `0,000123`, `-3,5`), never an exponent. A trace once read
"SMA(3) 1.19919e+06", which is how a program writes a price, not a person."""

from __future__ import annotations

import math


def plain_number(value: float, significant: int = 6) -> str:
    """`value` to about `significant` significant digits (at most 10 decimals), grouped
    by spaces, decimal comma, trailing zeros dropped."""
    if not math.isfinite(value):
        return "n/a"
    if value == 0:
        return "0"
    magnitude = math.floor(math.log10(abs(value)))
    places = min(10, max(0, significant - 1 - magnitude))
    text = f"{abs(value):,.{places}f}"
    whole, _, fraction = text.partition(".")
    fraction = fraction.rstrip("0")
    out = whole.replace(",", " ") + (f",{fraction}" if fraction else "")
    return f"-{out}" if value < 0 and out.strip("0, ") else out
