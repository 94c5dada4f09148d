"""The headline block: the period's figures, A/B winners, accounts needing action, what to do.

Notebooks compute the figures and display them with :func:`instantly_nb.report.headline`;
the report shows the block first, above everything else. The payload shape::

    {"period": {"start": "2026-11-17", "end": "2026-11-23"},
     "previous": {"start": "2026-11-10", "end": "2026-11-16"},
     "figures": [{"key": "sent", "label": "Emails sent", "value": 1200, "unit": "count",
                  "previous": 1100, "change": 100, "noise": False,
                  "definition": "Emails sent in the period."}],
     "winners": [{"campaign": "Q4", "step": 1, "variant": "B", "subject": "Quick idea",
                  "lift": 0.23}],
     "accounts": [{"email": "a@x.com", "reasons": ["Inbox rate fell to 71%."]}],
     "actions": ["Pause a@x.com until its inbox rate recovers."]}

``unit`` is ``count`` (an integer), ``rate`` (a fraction: 0.042 reads 4.2%) or ``number``.
``change`` is ``value - previous`` in the figure's own unit (a rate's change reads in
percentage points); ``noise`` is True when the change is within noise. ``lift`` is the relative
lift of the winner over the control (a fraction) or a text. Every key but ``figures`` may be
omitted; the reader checks the shape and turns every text into ``str``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .formatting import MISSING, format_value
from .fragments import esc
from .mime import PAYLOAD_VERSION
from .payloads import PayloadError

__all__ = ["UNITS", "headline_html", "headline_payload", "headline_text", "read_headline"]

UNITS = ("count", "rate", "number")
#: Accounts and winners listed in the block (one line each); the rest are counted, with a
#: link to where they are listed.
ACCOUNTS_SHOWN = 5
WINNERS_SHOWN = 5
_SPEC = {"count": "int", "rate": "percent", "number": "number"}


def _str(value: Any, what: str) -> str:
    if isinstance(value, (dict, list)):
        raise PayloadError(f"headline {what} must be text, not {type(value).__name__}")
    return "" if value is None else str(value)


def _num(value: Any, what: str) -> float | int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise PayloadError(f"headline {what} must be a number, not {type(value).__name__}")
    return value


def _list(data: Mapping[str, Any], key: str, *, required: bool = False) -> list[Any]:
    value = data.get(key)
    if value is None and not required:
        return []
    if not isinstance(value, (list, tuple)):
        raise PayloadError(f"headline {key!r} must be a list")
    return list(value)


def _span(value: Any, what: str) -> dict[str, str] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise PayloadError(f"headline {what} must be an object with 'start' and 'end'")
    return {"start": _str(value.get("start"), what), "end": _str(value.get("end"), what)}


def _figure(item: Any) -> dict[str, Any]:
    if not isinstance(item, Mapping):
        raise PayloadError("each headline figure must be an object")
    unit = _str(item.get("unit") or "number", "unit")
    if unit not in UNITS:
        raise PayloadError(f"headline unit {unit!r} is not one of {', '.join(UNITS)}")
    value, previous = _num(item.get("value"), "value"), _num(item.get("previous"), "previous")
    change = _num(item.get("change"), "change")
    if change is None and value is not None and previous is not None:
        change = value - previous
    key = _str(item.get("key"), "key")
    return {
        "key": key,
        "label": _str(item.get("label") or key, "label"),
        "value": value,
        "unit": unit,
        "previous": previous,
        "change": change,
        "noise": bool(item.get("noise")),
        "definition": _str(item.get("definition"), "definition"),
    }


def _winner(item: Any) -> dict[str, Any]:
    if not isinstance(item, Mapping):
        raise PayloadError("each headline winner must be an object")
    lift = item.get("lift")
    return {
        "campaign": _str(item.get("campaign"), "campaign"),
        "step": _str(item.get("step"), "step"),
        "variant": _str(item.get("variant"), "variant"),
        "subject": _str(item.get("subject"), "subject"),
        "lift": lift if isinstance(lift, (int, float)) and not isinstance(lift, bool)
        else (None if lift is None else _str(lift, "lift")),
    }


def _account(item: Any) -> dict[str, Any]:
    if not isinstance(item, Mapping):
        raise PayloadError("each headline account must be an object")
    reasons = item.get("reasons") or []
    if isinstance(reasons, str):
        reasons = [reasons]
    if not isinstance(reasons, (list, tuple)):
        raise PayloadError("headline account 'reasons' must be a list of sentences")
    return {
        "email": _str(item.get("email"), "email"),
        "reasons": [_str(r, "reason") for r in reasons],
    }


def read_headline(payload: Any) -> dict[str, Any]:
    """Check a headline payload (from a notebook or a dict) and return a clean copy.

    Raises
    ------
    PayloadError
        When the shape differs from the one in the module docstring.
    """
    if not isinstance(payload, Mapping):
        raise PayloadError("a headline must be an object (a dict)")
    return {
        "period": _span(payload.get("period"), "period"),
        "previous": _span(payload.get("previous"), "previous period"),
        "figures": [_figure(f) for f in _list(payload, "figures", required=True)],
        "winners": [_winner(w) for w in _list(payload, "winners")],
        "accounts": [_account(a) for a in _list(payload, "accounts")],
        "actions": [_str(a, "action") for a in _list(payload, "actions")],
    }


def headline_payload(data: Mapping[str, Any]) -> dict[str, Any]:
    """Check ``data`` and return the JSON payload displayed by :func:`report.headline`."""
    return {"version": PAYLOAD_VERSION, **read_headline(data)}


def _value(figure: Mapping[str, Any], key: str = "value") -> str:
    return format_value(figure[key], _SPEC[figure["unit"]])


def change_text(figure: Mapping[str, Any]) -> str:
    """The change against the previous period in words, e.g. ``+0.4 pp`` or ``+120 (+11%)``."""
    change, previous = figure["change"], figure["previous"]
    if change is None:
        return "no previous period" if previous is None else MISSING
    if figure["unit"] == "rate":
        return format_value(change, "delta")
    text = format_value(change, "int" if figure["unit"] == "count" else "number")
    text = text if text.startswith("-") else "+" + text
    if previous:
        text += f" ({change / previous:+.0%})"
    return text


def _direction(figure: Mapping[str, Any]) -> str:
    change = figure["change"]
    if figure["noise"] or not change:
        return "flat"
    return "up" if change > 0 else "down"


def _figure_html(figure: Mapping[str, Any]) -> str:
    tip = f' title="{esc(figure["definition"])}"' if figure["definition"] else ""
    previous = ""
    if figure["previous"] is not None:
        previous = f" vs {esc(_value(figure, 'previous'))}"
    noise = ' <span class="noise">within noise</span>' if figure["noise"] else ""
    return (
        f'<div class="figure" data-key="{esc(figure["key"])}"{tip}>'
        f'<div class="label">{esc(figure["label"])}</div>'
        f'<div class="value">{esc(_value(figure))}</div>'
        f'<div class="change {_direction(figure)}">{esc(change_text(figure))}{previous}{noise}'
        "</div></div>"
    )


def _winner_text(winner: Mapping[str, Any]) -> str:
    lift = winner["lift"]
    if isinstance(lift, (int, float)):
        lift = f"{lift:+.0%} vs control"
    where = winner["campaign"] + (f", step {winner['step']}" if winner["step"] else "")
    subject = f" “{winner['subject']}”" if winner["subject"] else ""
    return f"{where}: variant {winner['variant']}{subject}" + (f" ({lift})" if lift else "")


def _list_html(title: str, items: list[str], empty: str, cls: str, more: str = "") -> str:
    body = "".join(items) or f'<li class="none">{esc(empty)}</li>'
    body += f'<li class="more">{more}</li>' if more else ""
    tag = "ol" if cls == "actions" else "ul"
    return f'<div class="{cls}"><h3>{esc(title)}</h3><{tag}>{body}</{tag}></div>'


def _reasons(reasons: list[str]) -> str:
    """Sentences joined with spaces, phrases with semicolons."""
    sentences = all(r.rstrip().endswith((".", "!", "?")) for r in reasons)
    return (" " if sentences else "; ").join(reasons)


def _more(hidden: int, anchor: str | None, where: str) -> str:
    if hidden <= 0:
        return ""
    if anchor is None:
        return f"and {hidden} more in {esc(where)}"
    return f'and {hidden} more: <a href="{esc(anchor)}">see {esc(where)}</a>'


def _period_text(data: Mapping[str, Any]) -> str:
    period, previous = data["period"], data["previous"]
    if not period:
        return ""
    text = f"{period['start']} to {period['end']}"
    if previous:
        text += f", compared with {previous['start']} to {previous['end']}"
    return f'<p class="period">{esc(text)}</p>'


def headline_html(
    data: Mapping[str, Any],
    *,
    heading: str = "At a glance",
    winners_href: str | None = None,
    accounts_href: str | None = "#alerts",
) -> str:
    """HTML of a checked headline (see :func:`read_headline`).

    Accounts and winners beyond the first few are counted, with a link to ``accounts_href``
    and ``winners_href`` (the page's alerts and A/B section) when given.
    """
    figures = "".join(_figure_html(f) for f in data["figures"])
    accounts = [
        f'<li class="line" title="{esc(a["email"] + ": " + _reasons(a["reasons"]))}">'
        f"<strong>{esc(a['email'])}</strong>: {esc(_reasons(a['reasons']))}</li>"
        for a in data["accounts"]
    ]
    winners = [
        f'<li class="line" title="{esc(_winner_text(w))}">{esc(_winner_text(w))}</li>'
        for w in data["winners"]
    ]
    lists = [
        _list_html("What to do", [f"<li>{esc(a)}</li>" for a in data["actions"]],
                   "Nothing urgent.", "actions"),
        _list_html(f"A/B winners ({len(winners)})", winners[:WINNERS_SHOWN],
                   "No winner declared yet.", "winners",
                   _more(len(winners) - WINNERS_SHOWN, winners_href, "the A/B tests")),
        _list_html(f"Accounts needing action ({len(accounts)})", accounts[:ACCOUNTS_SHOWN],
                   "No account needs action.", "accounts",
                   _more(len(accounts) - ACCOUNTS_SHOWN, accounts_href, "the alerts")),
    ]
    return (
        f'<section class="headline" id="summary"><h2>{esc(heading)}</h2>{_period_text(data)}'
        f'<div class="figures">{figures}</div><div class="lists">{"".join(lists)}</div>'
        "</section>"
    )


def headline_text(data: Mapping[str, Any]) -> str:
    """Plain-text form of a checked headline (terminals, logs)."""
    lines = [f"{f['label']}: {_value(f)} ({change_text(f)}"
             + (", within noise)" if f["noise"] else ")") for f in data["figures"]]
    lines += [f"Winner: {_winner_text(w)}" for w in data["winners"]]
    lines += [f"Needs action: {a['email']}: {_reasons(a['reasons'])}" for a in data["accounts"]]
    lines += [f"To do: {a}" for a in data["actions"]]
    return "\n".join(lines)
