"""Display helpers that notebooks call to hand structured content to the HTML report.

Each helper displays one MIME bundle: a custom JSON type that the report renderer rebuilds
from data, a ``text/html`` fallback that JupyterLab shows, and ``text/plain`` for terminals.
Charts need no helper: in report runs :func:`setup_report_mode` makes altair emit Vega-Lite
JSON, which the renderer embeds.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from .fragments import alerts_html, definitions_html, esc, table_html
from .headline import headline_html, headline_payload, headline_text
from .mime import (
    MIME_ALERTS,
    MIME_CONTEXT,
    MIME_DEFINITIONS,
    MIME_HEADLINE,
    MIME_TABLE,
    REPORT_ENV,
)
from .payloads import (
    alerts_payload,
    context_payload,
    definitions_payload,
    read_alerts,
    read_definitions,
    read_table,
    table_payload,
)

__all__ = [
    "alerts",
    "context",
    "definitions",
    "headline",
    "in_report_mode",
    "setup_report_mode",
    "table",
]

#: Name of the altair renderer registered by :func:`setup_report_mode`.
CHART_RENDERER = "instantly_nb_report"


def _show(bundle: dict[str, Any]) -> None:
    from IPython.display import display

    display(bundle, raw=True)


def in_report_mode() -> bool:
    """True inside a kernel started by ``instantly-nb report`` (``INSTANTLY_NB_REPORT=1``)."""
    return os.environ.get(REPORT_ENV) == "1"


def _chart_bundle(spec: dict[str, Any], **metadata: Any) -> Any:
    import altair as alt
    from altair.utils.display import default_renderer_base

    major = alt.SCHEMA_VERSION.lstrip("v").split(".")[0]
    # altair's own "mimetype" renderer uses application/vnd.vegalite.v6.json, which is not a
    # JSON MIME type for nbformat (no "+json"), so executed notebooks fail validation with it.
    mime = f"application/vnd.vegalite.v{major}+json"
    return default_renderer_base(spec, mime, "<chart: drawn in the HTML report>", **metadata)


def setup_report_mode() -> None:
    """Make altair charts display as Vega-Lite JSON, which the report renderer embeds offline.

    The runner calls this in a cell it adds at the top of every notebook; notebooks need not.
    """
    import altair as alt

    alt.renderers.register(CHART_RENDERER, _chart_bundle)
    alt.renderers.enable(CHART_RENDERER)


def table(
    data: Any,
    *,
    title: str | None = None,
    caption: str | None = None,
    formats: Mapping[str, str] | None = None,
    labels: Mapping[str, str] | None = None,
    ci: Mapping[str, tuple[str, str]] | None = None,
    max_rows: int = 1000,
    filename: str | None = None,
    detail: Sequence[str] = (),
) -> None:
    """Display a table the report shows formatted, sortable and downloadable as CSV.

    Parameters
    ----------
    data : polars.DataFrame
        The rows (anything ``pl.DataFrame(...)`` accepts also works). Select the columns to show
        first; every column is shown except the CI bounds named in ``ci``.
    title, caption : str, optional
        Text above and below the table.
    formats : Mapping[str, str], optional
        Column -> format spec: ``int``, ``number[:N]``, ``percent[:N]`` (fractions, 0.042 ->
        4.2%), ``delta[:N]`` (a change of a fraction, 0.012 -> +1.2 pp), ``pvalue[:N]``
        (0.0004 -> < 0.001), ``date``, ``datetime``, ``bool``, ``text``. Unnamed columns get one from their
        dtype; float columns whose name ends in ``rate`` read as percentages.
    labels : Mapping[str, str], optional
        Column -> header text. A header equal to the name of a metric definition links to it.
    ci : Mapping[str, tuple[str, str]], optional
        Column -> (low column, high column): shows ``4.2% (3.8–4.7%)``; the bounds are hidden
        in the page but kept in the CSV.
    max_rows : int
        Rows kept (page and CSV); a note says when rows were cut.
    filename : str, optional
        Stem of the CSV file name; defaults to the title.
    detail : sequence of str
        Columns a reader rarely needs: shown in a row's folded detail, not as columns (they
        stay in the CSV). Beyond seven visible columns the later ones fold the same way, so no
        table is wider than the page.

    Examples
    --------
    >>> import polars as pl
    >>> from instantly_nb import report
    >>> df = pl.DataFrame({"campaign_name": ["Q4"], "reply_rate": [0.042],
    ...                    "lo": [0.038], "hi": [0.047]})
    >>> report.table(df, title="Reply rate", formats={"reply_rate": "percent"},
    ...              ci={"reply_rate": ("lo", "hi")})  # doctest: +SKIP
    """
    payload = table_payload(
        data,
        title=title,
        caption=caption,
        formats=formats,
        labels=labels,
        ci=ci,
        max_rows=max_rows,
        filename=filename,
        detail=detail,
    )
    checked = read_table(payload)
    summary = (
        f"{title or 'Table'}: {payload['total_rows']} rows x {len(payload['columns'])} columns"
    )
    _show(
        {
            MIME_TABLE: payload,
            "text/html": table_html(checked, interactive=False),
            "text/plain": summary,
        }
    )


def alerts(data: Any, *, title: str = "Alerts") -> None:
    """Display alerts; the report lists every alert of every notebook first, before the sections.

    Parameters
    ----------
    data : polars.DataFrame or iterable of mappings or None
        One alert per row. Recognised columns: ``severity`` (or ``level``: critical, warning,
        info; others read as warning) and ``message`` (or ``alert``, ``title``, ``rule``); every
        other column is shown as a detail. Zero rows show nothing.
    title : str
        Heading of the alerts in JupyterLab.
    """
    payload = alerts_payload(data, title=title)
    count = len(payload["alerts"])
    _show(
        {
            MIME_ALERTS: payload,
            "text/html": alerts_html([read_alerts(payload)], heading=title) or "<p>No alerts.</p>",
            "text/plain": f"{title}: {count} alert(s)",
        }
    )


def definitions(items: Any) -> None:
    """Display metric definitions; the report prints them once, numbered, as footnotes.

    Parameters
    ----------
    items : Mapping[str, str] or iterable
        ``{name: definition}``, ``(name, definition)`` pairs, dicts with ``name`` and
        ``definition`` keys, or objects with ``name`` and ``definition`` attributes.
        Table headers equal to a name (case-insensitive) link to its footnote.
    """
    payload = definitions_payload(items)
    pairs = read_definitions(payload)
    _show(
        {
            MIME_DEFINITIONS: payload,
            "text/html": definitions_html(pairs),
            "text/plain": "\n".join(f"{name}: {text}" for name, text in pairs),
        }
    )


def context(*, workspace: str | None = None) -> None:
    """Tell the report header which workspace the data comes from.

    The runner knows the name in demo runs; live notebooks pass the name they fetched
    (``client.workspaces.current()``). The first name seen wins.
    """
    bundle: dict[str, Any] = {
        MIME_CONTEXT: context_payload(workspace=workspace),
        "text/plain": f"Workspace: {workspace}",
    }
    if workspace:
        bundle["text/html"] = f"<p>Workspace: {esc(workspace)}</p>"
    _show(bundle)


def headline(data: Mapping[str, Any]) -> None:
    """Display the headline block; the report shows it first, above the alerts and sections.

    Parameters
    ----------
    data : Mapping
        ``{"period": {"start", "end"}, "previous": {"start", "end"}, "figures": [{"key",
        "label", "value", "unit", "previous", "change", "noise", "definition"}], "winners":
        [{"campaign", "step", "variant", "subject", "lift"}], "accounts": [{"email",
        "reasons"}], "actions": [sentences]}``; see :mod:`instantly_nb.report.headline` for
        units and meanings. Only ``figures`` is required; the first headline of a report wins.

    Raises
    ------
    instantly_nb.report.payloads.PayloadError
        When ``data`` does not have that shape (the message names the key).
    """
    payload = headline_payload(data)
    _show(
        {
            MIME_HEADLINE: payload,
            "text/html": headline_html(payload),
            "text/plain": headline_text(payload),
        }
    )
