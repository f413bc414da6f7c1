from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from amarktai.kit.hashchain import GENESIS, chain_hash, verify_chain


def build(payloads: list[dict[str, object]]) -> list[tuple[int, dict[str, object], str, str]]:
    out, prev = [], GENESIS
    for i, p in enumerate(payloads):
        h = chain_hash(prev, p)
        out.append((i, p, prev, h))
        prev = h
    return out


@given(
    st.lists(st.dictionaries(st.text(max_size=5), st.integers()), min_size=1, max_size=20),
    st.data(),
)
def test_any_edit_is_found_at_its_position(
    payloads: list[dict[str, object]], data: st.DataObject
) -> None:
    entries = build(payloads)
    assert verify_chain(entries) is None
    i = data.draw(st.integers(0, len(entries) - 1))
    eid, payload, prev, h = entries[i]
    entries[i] = (eid, {**payload, "tampered": True}, prev, h)
    broken = verify_chain(entries)
    assert broken is not None and broken.position == i


def test_decimal_canonical_form_is_stable() -> None:
    assert chain_hash(GENESIS, {"a": Decimal("1.50")}) == chain_hash(GENESIS, {"a": Decimal("1.5")})


def test_removed_entry_breaks_link() -> None:
    entries = build([{"n": 1}, {"n": 2}, {"n": 3}])
    del entries[1]
    broken = verify_chain(entries)
    assert broken is not None and broken.position == 1 and "prev_hash" in broken.reason
