"""How a column and a table schema carry their meaning (the schemas' helpers).

A column's meaning is in its pyarrow field metadata (``description``), a
table's grain in its schema metadata; `parsers/schema.py` and
`parsers/clock_schema.py` declare every table with these.
"""

from __future__ import annotations

import pyarrow as pa

UTC_TS = pa.timestamp("us", tz="UTC")
LOCAL_TS = pa.timestamp("us")
DESCRIPTION = b"description"


def column(
    name: str, type_: pa.DataType, description: str, *, nullable: bool = True
) -> pa.Field:
    """A field with its meaning attached (``field.metadata[b"description"]``)."""
    return pa.field(name, type_, nullable, {DESCRIPTION: description.encode()})


def table_schema(grain: str, *fields: pa.Field) -> pa.Schema:
    """A schema whose metadata states its grain ("One row per ...")."""
    return pa.schema(fields, metadata={DESCRIPTION: grain.encode()})


def description(item: pa.Field | pa.Schema) -> str:
    """The description attached to a field or schema ("" when none)."""
    return (item.metadata or {}).get(DESCRIPTION, b"").decode()


def fits(value: int | None, type_: pa.DataType) -> int | None:
    """`value` when an integer column of `type_` can hold it, else None.

    Numbers in logs are as long as their digits (a damaged or hostile log has
    20-digit thread ids); a column that cannot hold one would lose the table.
    """
    if value is None:
        return None
    bits = type_.bit_width
    low, high = (
        (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1)
        if pa.types.is_signed_integer(type_)
        else (0, 2**bits - 1)
    )
    return value if low <= value <= high else None
