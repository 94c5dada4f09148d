"""Value formatting for report tables: numbers, rates with confidence intervals, dates.

A *format spec* is a short string stored with each table column:

=============  ==============================  ===================
spec           value                           shown as
=============  ==============================  ===================
``int``        12345                           ``12,345``
``number``     1234.5678 (``number:N``)        ``1,234.57``
``percent``    0.0421 (a fraction; ``:N``)     ``4.2%``
``date``       ``"2026-11-23"``                ``2026-11-23``
``datetime``   ``"2026-11-23T14:05:00+00:00"`` ``2026-11-23 14:05``
``delta``      0.012 (a change of a fraction)  ``+1.2 pp``
``pvalue``     0.0004 (``pvalue:N``)           ``< 0.001``
``bool``       true                            ``yes``
``text``       anything                        as text
=============  ==============================  ===================

A rate with its interval reads ``4.2% (3.8–4.7%)``. Missing values read ``—``.
"""

from __future__ import annotations

import json
import math
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

__all__ = [
    "FORMAT_KINDS",
    "MISSING",
    "format_ci",
    "format_value",
    "infer_format",
    "parse_format",
    "to_json_value",
]

FORMAT_KINDS = ("int", "number", "percent", "delta", "pvalue", "date", "datetime", "bool", "text")
MISSING = "—"
_DEFAULT_DECIMALS = {"number": 2, "percent": 1, "delta": 1, "pvalue": 3}


def parse_format(spec: str) -> tuple[str, int]:
    """Split a format spec into ``(kind, decimals)``.

    Raises
    ------
    ValueError
        For an unknown kind or a bad number of decimals.
    """
    kind, _, digits = spec.partition(":")
    if kind not in FORMAT_KINDS:
        raise ValueError(f"unknown format {spec!r}; use one of {', '.join(FORMAT_KINDS)}")
    if not digits:
        return kind, _DEFAULT_DECIMALS.get(kind, 0)
    if kind not in _DEFAULT_DECIMALS or not digits.isdigit() or int(digits) > 10:
        raise ValueError(
            f"bad format {spec!r}: only number, percent, delta and pvalue take :N (0-10 decimals)"
        )
    return kind, int(digits)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value) if math.isfinite(value) else None
    return None


def format_value(value: Any, spec: str = "text") -> str:
    """Format one cell value for display.

    Parameters
    ----------
    value : Any
        A JSON value (number, string, bool or None).
    spec : str
        A format spec (see the module docstring).

    Returns
    -------
    str
        Plain text; the caller escapes it for HTML.

    Examples
    --------
    >>> format_value(0.0421, "percent")
    '4.2%'
    >>> format_value(12345, "int")
    '12,345'
    """
    if value is None:
        return MISSING
    kind, decimals = parse_format(spec)
    if kind in ("int", "number", "percent", "delta", "pvalue"):
        number = _number(value)
        if number is None:
            return MISSING if isinstance(value, float) else str(value)
        return _format_number(number, kind, decimals)
    if kind == "bool":
        return "yes" if value is True else "no" if value is False else str(value)
    if kind == "datetime" and isinstance(value, str) and "T" in value:
        return value.replace("T", " ")[:16]
    return str(value)


def _format_number(number: float, kind: str, decimals: int) -> str:
    if kind == "int":
        return f"{round(number):,}"
    if kind == "percent":
        return f"{number * 100:,.{decimals}f}%"
    if kind == "delta":  # percentage points, always signed: a change reads as a change
        return f"{number * 100:+,.{decimals}f} pp"
    if kind == "pvalue":
        floor = 10.0**-decimals
        return f"< {floor:.{decimals}f}" if number < floor else f"{number:.{decimals}f}"
    return f"{number:,.{decimals}f}"


def format_ci(value: Any, low: Any, high: Any, spec: str = "percent") -> str:
    """Format a value with its confidence interval, e.g. ``4.2% (3.8–4.7%)``.

    The unit sign is written once, after the upper bound. With a missing bound only the value
    is shown.

    Examples
    --------
    >>> format_ci(0.042, 0.038, 0.047)
    '4.2% (3.8–4.7%)'
    """
    shown = format_value(value, spec)
    if shown == MISSING or _number(low) is None or _number(high) is None:
        return shown
    lo = format_value(low, spec)
    hi = format_value(high, spec)
    if lo.endswith("%"):
        lo = lo[:-1]
    return f"{shown} ({lo}–{hi})"


def infer_format(dtype: Any) -> str:
    """A default format spec for a polars dtype (integers, floats, dates, booleans, text)."""
    if dtype.is_integer():
        return "int"
    if dtype.is_float() or dtype.is_decimal():
        return "number"
    name = str(dtype).split("(")[0].split("[")[0]
    return {"Date": "date", "Datetime": "datetime", "Boolean": "bool"}.get(name, "text")


def to_json_value(value: Any) -> Any:
    """Turn a cell of a frame into a JSON value that survives the notebook round trip.

    Non-finite floats become None; dates and times become ISO text; Decimals become floats;
    nested values (lists, structs) become compact JSON text; anything else becomes ``str``.
    """
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Decimal):
        return to_json_value(float(value))
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, (list, tuple, dict)):
        return json.dumps(value, default=str, ensure_ascii=False)
    return str(value)
