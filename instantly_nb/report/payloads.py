"""JSON payloads of the report MIME types: built from frames in notebooks, checked in the renderer.

Builders (``*_payload``) run in the notebook kernel and turn a polars frame (or plain Python
values) into a JSON-safe dict. Readers (``read_*``) run in the renderer: they treat the payload
as untrusted data, check its shape, coerce every text to ``str`` and raise :class:`PayloadError`
for anything malformed, so a broken output can never inject markup into the report.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from .formatting import infer_format, parse_format, to_json_value
from .mime import PAYLOAD_VERSION

__all__ = [
    "PayloadError",
    "SEVERITIES",
    "alerts_payload",
    "coerce_definitions",
    "context_payload",
    "csv_cell",
    "csv_text",
    "definitions_payload",
    "read_alerts",
    "read_context",
    "read_definitions",
    "read_table",
    "safe_filename",
    "table_payload",
]

SEVERITIES = ("critical", "warning", "info")
#: A text cell starting with one of these (after leading spaces) would run as a formula in a
#: spreadsheet: = + - @ tab CR, and the full-width = + - @ of East Asian keyboards.
FORMULA_LEADS = frozenset("=+-@\t\r\uff1d\uff0b\uff0d\uff20")
#: Visible columns beyond this many move into a row's detail (and stay in the CSV).
MAX_COLUMNS = 7
_MESSAGE_KEYS = ("message", "alert", "title", "rule")
_SEVERITY_KEYS = ("severity", "level")


class PayloadError(ValueError):
    """A report payload does not have the expected shape."""


def safe_filename(text: str, default: str = "table") -> str:
    """A download file stem made of ``a-z0-9-`` only (at most 60 characters)."""
    stem = re.sub(r"[^a-z0-9]+", "-", str(text).lower()).strip("-")[:60].strip("-")
    return stem or default


def csv_cell(value: Any) -> str:
    """One CSV field: always quoted; a text that could start a formula is kept as text.

    Numbers and booleans are written as they are (``-0.5`` stays a number); a text whose first
    character, or first character after leading spaces, is one of :data:`FORMULA_LEADS` gets a
    leading apostrophe, which spreadsheets read as "this is text".

    Examples
    --------
    >>> csv_cell('=HYPERLINK("x")')
    '"\'=HYPERLINK(""x"")"'
    >>> csv_cell(-0.5)
    '"-0.5"'
    """
    if value is None:
        text = ""
    elif isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, (int, float)):
        text = repr(value)
    else:
        text = str(value)
        trimmed = text.lstrip(" \u3000\u00a0")
        if text[:1] in FORMULA_LEADS or trimmed[:1] in FORMULA_LEADS:
            text = "'" + text
    return '"' + text.replace('"', '""') + '"'


def csv_text(table: Mapping[str, Any]) -> str:
    """The CSV of a checked table (see :func:`read_table`): every column, every kept row.

    Every field is quoted and formula-like texts are neutralised (:func:`csv_cell`); lines end
    with CRLF. The page prepends a byte order mark when it saves the file.
    """
    lines = [",".join(csv_cell(c["name"]) for c in table["columns"])]
    lines += [",".join(csv_cell(v) for v in row) for row in table["rows"]]
    return "\r\n".join(lines) + "\r\n"


def _frame(data: Any) -> Any:
    import polars as pl

    return data if isinstance(data, pl.DataFrame) else pl.DataFrame(data)


def _check_columns(kind: str, wanted: Iterable[str], columns: list[str]) -> None:
    missing = [name for name in wanted if name not in columns]
    if missing:
        raise ValueError(f"{kind} name columns the frame does not have: {', '.join(missing)}")


def _default_format(name: str, dtype: Any) -> str:
    spec = infer_format(dtype)
    # Rates are fractions everywhere in instantly_nb (0.042 means 4.2%).
    return "percent" if spec == "number" and name.lower().endswith("rate") else spec


def table_payload(
    data: Any,
    *,
    title: str | None = None,
    caption: str | None = None,
    formats: Mapping[str, str] | None = None,
    labels: Mapping[str, str] | None = None,
    ci: Mapping[str, tuple[str, str]] | None = None,
    max_rows: int = 1000,
    filename: str | None = None,
    detail: Iterable[str] = (),
) -> dict[str, Any]:
    """Build the JSON payload of a report table (see :func:`instantly_nb.report.table`)."""
    frame = _frame(data)
    names = list(frame.columns)
    formats, labels, ci = dict(formats or {}), dict(labels or {}), dict(ci or {})
    detail = list(detail)
    _check_columns("detail", detail, names)
    _check_columns("formats", formats, names)
    _check_columns("labels", labels, names)
    _check_columns("ci", ci, names)
    _check_columns("ci bounds", [b for pair in ci.values() for b in pair], names)
    for spec in formats.values():
        parse_format(spec)
    bounds = {b for pair in ci.values() for b in pair}
    columns = [
        {
            "name": name,
            "label": str(labels.get(name, name)),
            "format": formats.get(name) or _default_format(name, frame.schema[name]),
            "ci": list(ci[name]) if name in ci else None,
            "hidden": name in bounds,
            "detail": name in detail,
        }
        for name in names
    ]
    shown = frame.head(max_rows)
    rows = [[to_json_value(v) for v in row] for row in shown.iter_rows()]
    return {
        "version": PAYLOAD_VERSION,
        "title": title,
        "caption": caption,
        "filename": safe_filename(filename or title or "table"),
        "columns": columns,
        "rows": rows,
        "total_rows": frame.height,
    }


def _text(value: Any, what: str) -> str:
    if isinstance(value, (dict, list)):
        raise PayloadError(f"{what} must be text, not {type(value).__name__}")
    return "" if value is None else str(value)


def _optional_text(value: Any, what: str) -> str | None:
    return None if value is None else _text(value, what)


def _scalar(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise PayloadError(f"table cells must be JSON scalars, not {type(value).__name__}")


def _overflow_to_detail(columns: list[dict[str, Any]]) -> None:
    """Keep at most :data:`MAX_COLUMNS` columns in the row; later ones go to the detail."""
    shown = [c for c in columns if not c["hidden"] and not c["detail"]]
    for col in shown[MAX_COLUMNS:]:
        col["detail"] = True


def read_table(payload: Any) -> dict[str, Any]:
    """Check a table payload from a notebook and return a clean copy."""
    if not isinstance(payload, dict) or not isinstance(payload.get("columns"), list):
        raise PayloadError("a table payload needs a 'columns' list")
    names: list[str] = []
    columns = []
    for col in payload["columns"]:
        if not isinstance(col, dict):
            raise PayloadError("each table column must be an object")
        name = _text(col.get("name"), "column name")
        spec = _text(col.get("format") or "text", "column format")
        try:
            parse_format(spec)
        except ValueError as exc:
            raise PayloadError(str(exc)) from None
        names.append(name)
        columns.append(
            {
                "name": name,
                "label": _text(col.get("label") or name, "label"),
                "format": spec,
                "ci": col.get("ci"),
                "hidden": bool(col.get("hidden")),
                "detail": bool(col.get("detail")),
            }
        )
    _overflow_to_detail(columns)
    for col in columns:
        ci = col["ci"]
        if ci is not None and not (isinstance(ci, list) and len(ci) == 2 and set(ci) <= set(names)):
            raise PayloadError(f"column {col['name']!r} has a bad 'ci' pair")
    rows = payload.get("rows")
    if not isinstance(rows, list):
        raise PayloadError("a table payload needs a 'rows' list")
    clean_rows = []
    for row in rows:
        if not isinstance(row, list) or len(row) != len(columns):
            raise PayloadError(f"every table row must hold {len(columns)} values")
        clean_rows.append([_scalar(v) for v in row])
    total = payload.get("total_rows", len(clean_rows))
    return {
        "title": _optional_text(payload.get("title"), "title"),
        "caption": _optional_text(payload.get("caption"), "caption"),
        "filename": safe_filename(_text(payload.get("filename") or "table", "filename")),
        "columns": columns,
        "rows": clean_rows,
        "total_rows": total if isinstance(total, int) and total >= len(clean_rows) else len(rows),
    }


def _records(data: Any) -> list[dict[str, Any]]:
    if data is None:
        return []
    if hasattr(data, "to_dicts"):
        return list(data.to_dicts())
    if isinstance(data, Mapping):
        return [dict(data)]
    return [dict(item) for item in data]


def _alert(record: Mapping[str, Any]) -> dict[str, Any]:
    severity_key = next((k for k in _SEVERITY_KEYS if k in record), None)
    message_key = next((k for k in _MESSAGE_KEYS if k in record), None)
    severity = str(record.get(severity_key) or "warning").lower() if severity_key else "warning"
    details = {
        str(k): to_json_value(v) for k, v in record.items() if k not in (severity_key, message_key)
    }
    if message_key and record.get(message_key) is not None:
        message = str(record[message_key])
    else:
        message = "; ".join(f"{k}: {v}" for k, v in details.items())
    return {
        "severity": severity if severity in SEVERITIES else "warning",
        "message": message,
        "details": details,
    }


def alerts_payload(data: Any, *, title: str = "Alerts") -> dict[str, Any]:
    """Build the payload of alerts from a frame or records (see :func:`report.alerts`)."""
    return {
        "version": PAYLOAD_VERSION,
        "title": str(title),
        "alerts": [_alert(record) for record in _records(data)],
    }


def read_alerts(payload: Any) -> dict[str, Any]:
    """Check an alerts payload from a notebook and return a clean copy."""
    if not isinstance(payload, dict) or not isinstance(payload.get("alerts"), list):
        raise PayloadError("an alerts payload needs an 'alerts' list")
    alerts = []
    for item in payload["alerts"]:
        if not isinstance(item, dict):
            raise PayloadError("each alert must be an object")
        severity = _text(item.get("severity") or "warning", "severity").lower()
        details = item.get("details") or {}
        if not isinstance(details, dict):
            raise PayloadError("alert details must be an object")
        alerts.append(
            {
                "severity": severity if severity in SEVERITIES else "warning",
                "message": _text(item.get("message"), "alert message"),
                "details": {str(k): _scalar(v) for k, v in details.items()},
            }
        )
    return {"title": _text(payload.get("title") or "Alerts", "title"), "alerts": alerts}


def coerce_definitions(items: Any) -> list[tuple[str, str]]:
    """Turn definitions in any common shape into ``(name, definition)`` pairs.

    Accepts a mapping ``{name: definition}``, pairs, dicts with ``name`` and ``definition``
    (or ``description``) keys, or objects with such attributes.
    """
    if items is None:
        return []
    if isinstance(items, Mapping):
        return [(str(k), str(v)) for k, v in items.items()]
    pairs = []
    for item in items:
        if isinstance(item, Mapping):
            text = item.get("definition", item.get("description"))
            pairs.append((str(item["name"]), str(text)))
        elif isinstance(item, (tuple, list)) and len(item) == 2:
            pairs.append((str(item[0]), str(item[1])))
        elif hasattr(item, "name"):
            text = getattr(item, "definition", None) or getattr(item, "description", "")
            pairs.append((str(item.name), str(text)))
        else:
            raise ValueError(f"cannot read a metric definition from {type(item).__name__}")
    return pairs


def definitions_payload(items: Any) -> dict[str, Any]:
    """Build the payload of metric definitions (see :func:`instantly_nb.report.definitions`)."""
    return {
        "version": PAYLOAD_VERSION,
        "definitions": [{"name": n, "definition": d} for n, d in coerce_definitions(items)],
    }


def read_definitions(payload: Any) -> list[tuple[str, str]]:
    """Check a definitions payload from a notebook; return ``(name, definition)`` pairs."""
    if not isinstance(payload, dict) or not isinstance(payload.get("definitions"), list):
        raise PayloadError("a definitions payload needs a 'definitions' list")
    out = []
    for item in payload["definitions"]:
        if not isinstance(item, dict):
            raise PayloadError("each definition must be an object")
        out.append((_text(item.get("name"), "name"), _text(item.get("definition"), "definition")))
    return out


def context_payload(*, workspace: str | None = None) -> dict[str, Any]:
    """Build the payload of header facts (see :func:`instantly_nb.report.context`)."""
    return {"version": PAYLOAD_VERSION, "workspace": None if workspace is None else str(workspace)}


def read_context(payload: Any) -> dict[str, str | None]:
    """Check a context payload from a notebook and return a clean copy."""
    if not isinstance(payload, dict):
        raise PayloadError("a context payload must be an object")
    return {"workspace": _optional_text(payload.get("workspace"), "workspace")}
