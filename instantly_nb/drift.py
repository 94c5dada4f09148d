"""Row rules for what the live API sends beyond its document, applied by :mod:`instantly_nb.frames`.

* **Phantom account rows**: ``accounts.analytics_daily`` answers carry a row whose
  ``email_account`` is ``""``. It belongs to no account; it is dropped and the count logged (a
  row without the key at all is kept: that is not the habit seen).
* **Junk step rows**: step analytics carry a row with ``step`` null (or the text ``"null"``) and
  ``sent`` 0. It is no step of any sequence; such rows with every count zero are dropped (logged
  at DEBUG). A step-less row that does count something is kept, with ``step`` null.
* **E-mail steps**: ``emails.list`` sends ``step`` as ``"<subsequence>_<step>_<variant>"``
  (``"0_1_0"``). The text stays in ``step``; the three numbers, as the API numbers them, go to the
  Int64 columns ``step_subsequence``, ``step_number`` and ``step_variant`` (a bare number fills
  ``step_number`` only). These columns are part of the frame's schema, present when no e-mail
  has a step.
"""

from __future__ import annotations

import logging
from functools import cache
from typing import Any

import polars as pl

__all__ = ["DERIVED", "add_derived", "clean_rows", "derived_exprs"]

log = logging.getLogger("instantly_nb.frames")

STEP_ENDPOINTS = frozenset({"campaigns.analytics_steps", "subsequences.analytics_steps"})
PHANTOM_ENDPOINTS = {"accounts.analytics_daily": "email_account"}
NULL_TEXT = frozenset({"", "null", "none"})
_STEP_KEYS = frozenset({"step", "variant"})
_E_STEP = r"^\s*(?:(\d+)_(\d+)_(\d+)|(\d+))\s*$"

DERIVED: dict[str, dict[str, pl.DataType]] = {
    "emails.list": {"step_subsequence": pl.Int64(), "step_number": pl.Int64(),
                    "step_variant": pl.Int64()},
}


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip().lower() in NULL_TEXT)


def _phantom(value: Any) -> bool:
    return isinstance(value, str) and not value.strip()


def _zero(value: Any) -> bool:
    if _blank(value) or value == 0:
        return True
    return isinstance(value, str) and value.strip() in ("0", "0.0")


def _junk_step(row: dict[str, Any]) -> bool:
    sent = row.get("sent")
    return _blank(row.get("step")) and sent is not None and _zero(sent) and all(
        _zero(v) for k, v in row.items() if k not in _STEP_KEYS and not isinstance(v, dict | list))


def clean_rows(name: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``rows`` without the phantom and junk rows of endpoint ``name`` (logged)."""
    key = PHANTOM_ENDPOINTS.get(name)
    if key is not None:
        kept = [r for r in rows if not _phantom(r.get(key))]
        if len(kept) < len(rows):
            log.warning("%s: dropped %d row(s) with an empty %s (the API sends a row that "
                        "belongs to no account).", name, len(rows) - len(kept), key)
        return kept
    if name in STEP_ENDPOINTS:
        kept = [r for r in rows if not _junk_step(r)]
        if len(kept) < len(rows):
            log.debug("%s: dropped %d step-less row(s) with no counts.", name,
                      len(rows) - len(kept))
        return kept
    return rows


@cache
def derived_exprs(name: str) -> tuple[tuple[str, ...], tuple[pl.Expr, ...]] | None:
    """The columns the derived columns of ``name`` are made of, and the expressions making
    them (see :data:`DERIVED`); None when it has none."""
    if not DERIVED.get(name):
        return None
    step = pl.col("step").cast(pl.String)
    parts = [step.str.extract(_E_STEP, i).cast(pl.Int64) for i in (1, 2, 3, 4)]
    return ("step",), (
        parts[0].alias("step_subsequence"),
        pl.coalesce(parts[1], parts[3]).alias("step_number"),
        parts[2].alias("step_variant"),
    )


def add_derived(name: str, frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with the derived columns of ``name`` (see :data:`DERIVED`)."""
    derived = derived_exprs(name)
    if derived is None:
        return frame
    return frame.with_columns(derived[1])
