"""parsers/columns.py: what a column's integer type can hold."""

from __future__ import annotations

import pyarrow as pa

from espfleet.parsers.columns import fits


def test_fits_keeps_what_the_type_holds_and_nothing_else():
    assert [fits(v, pa.int32()) for v in (2**31 - 1, 2**31, -(2**31), None)] == [
        2**31 - 1,
        None,
        -(2**31),
        None,
    ]
    assert [fits(v, pa.int64()) for v in (2**63 - 1, 2**63)] == [2**63 - 1, None]
    assert [fits(v, pa.uint32()) for v in (-1, 0, 2**32 - 1, 2**32)] == [
        None,
        0,
        2**32 - 1,
        None,
    ]
