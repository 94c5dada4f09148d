"""Secret-bearing columns masked as frames are shaped, before anything stores or shows them.

Some read endpoints return secrets: ``api_keys.list`` the API keys themselves (``key``),
``dfy_orders.accounts`` mailbox passwords, ``webhooks.list`` the custom headers (often an
``Authorization`` value) sent to the webhook's target, and ``webhooks.list`` /
``webhook_events.list`` the target URL itself, whose path or query is often the credential
(a Slack or Zapier catch hook works for anyone who knows it). :func:`mask_secrets` is applied by
:func:`instantly_nb.frames.to_frame`, so no frame of the client -- and so no snapshot, pull
output, notebook or report -- ever holds them:

* a key or token column keeps only its last 4 characters (``****7f3a``), enough to tell keys
  apart; shorter values become ``****``;
* a password or secret column becomes ``****``;
* a ``headers`` JSON column keeps the header names, each value becomes ``****``;
* a webhook URL column (``target_hook_url``, ``webhook_url``) keeps its scheme and host, enough
  to tell targets apart: ``https://hooks.slack.com/****``.

Columns are recognised by name (the last ``__`` part), declared or not, so a field the API adds
later is masked too.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from urllib.parse import urlsplit

import polars as pl

__all__ = ["MASK", "is_secret_column", "mask_secrets", "mask_value"]

MASK = "****"
_KEEP_TAIL = re.compile(r"^(key|api_key|apikey|token|access_token|refresh_token|.*_token)$")
_HIDE = re.compile(r"^(password|passwd|secret|client_secret|.*_password|.*_secret)$")
_HEADERS = "headers"
_HOOK_URL = re.compile(r"^(.*hook_url)$")


def _leaf(column: str) -> str:
    return column.rsplit("__", 1)[-1].lower()


@lru_cache(maxsize=4096)
def is_secret_column(column: str) -> bool:
    """True for a column whose values are masked (remembered by name: every frame shaped
    asks for each of its columns)."""
    leaf = _leaf(column)
    return bool(_KEEP_TAIL.match(leaf) or _HIDE.match(leaf) or _HOOK_URL.match(leaf)) \
        or leaf == _HEADERS


def mask_value(column: str, value: str | None) -> str | None:
    """The masked form of one value of ``column``."""
    if value is None:
        return None
    leaf = _leaf(column)
    if leaf == _HEADERS:
        return _mask_headers(value)
    if _HOOK_URL.match(leaf):
        return _mask_url(value)
    if _KEEP_TAIL.match(leaf) and len(value) >= 16:
        return MASK + value[-4:]
    return MASK if value else value


def _mask_url(text: str) -> str:
    try:
        parts = urlsplit(text.strip())
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return MASK
    if not parts.scheme or not host:
        return MASK if text else text
    return f"{parts.scheme}://{host}{port}/{MASK}"


def _mask_headers(text: str) -> str:
    try:
        headers = json.loads(text)
    except ValueError:
        return MASK
    if isinstance(headers, dict):
        return json.dumps({str(k): MASK for k in headers})
    return MASK


def mask_secrets(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with every secret-bearing String column masked (other columns untouched)."""
    names = [c for c, dtype in frame.schema.items() if dtype == pl.String and is_secret_column(c)]
    if not names or frame.is_empty():
        return frame
    return frame.with_columns(
        pl.Series(c, [mask_value(c, v) for v in frame[c].to_list()], dtype=pl.String)
        for c in names)
