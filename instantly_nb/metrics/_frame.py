"""Small frame helpers shared by the metric modules: column checks, group keys, casting.

Nothing here computes a metric; these helpers keep the public functions short and make every
function fail the same way when a column is missing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import polars as pl

ByArg = str | Sequence[str] | None


def as_list(by: ByArg) -> list[str]:
    """Normalise a ``by`` argument (``None``, one name or several names) to a list of names."""
    if by is None:
        return []
    if isinstance(by, str):
        return [by]
    return list(by)


def require(df: pl.DataFrame, columns: Iterable[str], what: str) -> None:
    """Raise ``ValueError`` naming every column of ``columns`` that ``df`` lacks.

    Parameters
    ----------
    df : pl.DataFrame
        The frame handed to a public function.
    columns : iterable of str
        Columns the function needs.
    what : str
        The function name and the frame it expects, used in the message.
    """
    if not isinstance(df, pl.DataFrame):
        raise TypeError(f"{what}: expected a polars DataFrame, got {type(df).__name__}")
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(
            f"{what}: missing column(s) {', '.join(repr(c) for c in missing)}; "
            f"the frame has {', '.join(df.columns) or 'no columns'}. "
            "Pass the frame this function documents, or rename the columns."
        )


def first_present(df: pl.DataFrame, candidates: Sequence[str]) -> str | None:
    """Return the first name of ``candidates`` that is a column of ``df``, else ``None``."""
    for name in candidates:
        if name in df.columns:
            return name
    return None


def group_dtypes(df: pl.DataFrame, by: list[str]) -> dict[str, pl.DataType]:
    """Dtypes of the ``by`` columns of ``df`` (used to build typed empty outputs)."""
    return {c: df.schema[c] for c in by}


def empty(schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """An empty frame with exactly ``schema`` (column order kept)."""
    return pl.DataFrame(schema=schema)


def numeric(col: str) -> pl.Expr:
    """``col`` as Float64 (counts arrive as Int64, Float64 or even strings from extra fields)."""
    return pl.col(col).cast(pl.Float64, strict=False)


def conform(df: pl.DataFrame, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """Select and cast ``df`` to ``schema`` so outputs have one shape whatever the input."""
    return df.select([pl.col(c).cast(t, strict=False) for c, t in schema.items()])
