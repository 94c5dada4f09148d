"""Generate ``instantly_nb/endpoints.py`` and ``docs/ENDPOINTS.md`` from the official OpenAPI document.

Usage (from the repository root)::

    python scripts/gen_endpoints.py [SPEC] [--check]

``SPEC`` defaults to ``$INSTANTLY_NB_SPEC``, else ``shared/api/instantly-api-v2.openapi.json`` in
the nearest folder above the repository that has it (:func:`find_spec`). ``--check`` writes nothing
and exits 1 when a committed file differs from what the spec gives.

What the generator decides (facts come from the spec, choices are listed here):

* Read operations = every GET plus the read-only POSTs in :data:`READS`, named as in that table.
  Every other operation goes to ``WRITE_OPERATIONS``.
* Pagination: ``starting_after`` in the query -> ``cursor_query``; ``POST /leads/list`` ->
  ``cursor_body``; the enrichment history -> ``offset``. ``page_limit`` is the ``limit``
  parameter's maximum, or 100 where the spec states none.
* Envelope: non-JSON -> ``text``; a bare array -> ``array``; an object with an ``items`` array ->
  ``items``; warmup analytics -> ``keyed``; any other object -> ``object`` (one record).
* Dtypes: ``integer`` -> int. ``number`` -> float, except numbers with integer enum codes
  (status codes) -> int. Counters typed ``number`` stay float on purpose: one rule, no guessing.
  Strings -> datetime when the format is ``date-time``, the name starts with ``timestamp_``
  (not ending ``_date``) or the spec example is an ISO timestamp; -> date when the format is
  ``date``, the name is ``date`` or the name ends ``_date`` with a ``YYYY-MM-DD`` example.
* Enum labels (``<field>_label`` columns) are made for numeric codes only; string codes are
  readable as they are. A label is the spec's meaning when it has at most five words (the part
  before `` - `` when the meaning reads "Name - explanation"), else an entry of :data:`LABELS`.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import sys
from pathlib import Path
from typing import Any

from instantly_nb import endpoint_facts as facts
from instantly_nb.spec import csv_column

ROOT = Path(__file__).resolve().parents[1]
SPEC_ENV = "INSTANTLY_NB_SPEC"
SPEC_PATH = Path("shared") / "api" / "instantly-api-v2.openapi.json"


def find_spec() -> Path:
    """The OpenAPI document: ``$INSTANTLY_NB_SPEC``, else ``shared/api/...`` in the nearest folder
    above the repository that has one (the path is returned even when no such file exists)."""
    given = os.environ.get(SPEC_ENV)
    if given:
        return Path(given).expanduser()
    for folder in ROOT.parents:
        if (folder / SPEC_PATH).is_file():
            return folder / SPEC_PATH
    return ROOT.parent / SPEC_PATH


DEFAULT_SPEC = find_spec()
MODULE = ROOT / "instantly_nb" / "endpoints.py"
DOC = ROOT / "docs" / "ENDPOINTS.md"

# (method, path, name) of every read operation, in table order.
READS: tuple[tuple[str, str, str], ...] = tuple(
    (m, "/api/v2/" + p, n) for m, p, n in (
        ("GET", "account-campaign-mappings/{email}", "account_campaign_mappings.list"),
        ("GET", "accounts", "accounts.list"),
        ("GET", "accounts/{email}", "accounts.get"),
        ("POST", "accounts/warmup-analytics", "accounts.warmup_analytics"),
        ("GET", "accounts/analytics/daily", "accounts.analytics_daily"),
        ("GET", "accounts/ctd/status", "accounts.ctd_status"),
        ("POST", "accounts/test/vitals", "accounts.test_vitals"),
        ("GET", "api-keys", "api_keys.list"),
        ("GET", "audit-logs", "audit_logs.list"),
        ("GET", "background-jobs", "background_jobs.list"),
        ("GET", "background-jobs/{id}", "background_jobs.get"),
        ("GET", "block-lists-entries", "block_list_entries.list"),
        ("GET", "block-lists-entries/{id}", "block_list_entries.get"),
        ("GET", "block-lists-entries/download", "block_list_entries.download"),
        ("GET", "campaigns", "campaigns.list"),
        ("GET", "campaigns/{id}", "campaigns.get"),
        ("GET", "campaigns/search-by-contact", "campaigns.search_by_contact"),
        ("GET", "campaigns/analytics", "campaigns.analytics"),
        ("GET", "campaigns/analytics/overview", "campaigns.analytics_overview"),
        ("GET", "campaigns/analytics/daily", "campaigns.analytics_daily"),
        ("GET", "campaigns/analytics/steps", "campaigns.analytics_steps"),
        ("GET", "campaigns/count-launched", "campaigns.count_launched"),
        ("GET", "campaigns/{id}/sending-status", "campaigns.sending_status"),
        ("GET", "crm-actions/phone-numbers", "crm_actions.phone_numbers"),
        ("GET", "custom-tag-mappings", "custom_tag_mappings.list"),
        ("GET", "custom-tags", "custom_tags.list"),
        ("GET", "custom-tags/{id}", "custom_tags.get"),
        ("GET", "dfy-email-account-orders", "dfy_orders.list"),
        ("POST", "dfy-email-account-orders/domains/pre-warmed-up-list",
         "dfy_orders.pre_warmed_domains"),
        ("GET", "dfy-email-account-orders/accounts", "dfy_orders.accounts"),
        ("GET", "emails", "emails.list"),
        ("GET", "emails/{id}", "emails.get"),
        ("GET", "emails/unread/count", "emails.unread_count"),
        ("GET", "email-verification/{email}", "email_verification.get"),
        ("GET", "inbox-placement-analytics", "inbox_placement_analytics.list"),
        ("GET", "inbox-placement-analytics/{id}", "inbox_placement_analytics.get"),
        ("POST", "inbox-placement-analytics/stats-by-test-id",
         "inbox_placement_analytics.stats_by_test"),
        ("POST", "inbox-placement-analytics/deliverability-insights",
         "inbox_placement_analytics.deliverability_insights"),
        ("POST", "inbox-placement-analytics/stats-by-date",
         "inbox_placement_analytics.stats_by_date"),
        ("GET", "inbox-placement-reports", "inbox_placement_reports.list"),
        ("GET", "inbox-placement-reports/{id}", "inbox_placement_reports.get"),
        ("GET", "inbox-placement-tests", "inbox_placement_tests.list"),
        ("GET", "inbox-placement-tests/{id}", "inbox_placement_tests.get"),
        ("GET", "inbox-placement-tests/email-service-provider-options",
         "inbox_placement_tests.esp_options"),
        ("GET", "lead-labels", "lead_labels.list"),
        ("GET", "lead-labels/{id}", "lead_labels.get"),
        ("GET", "lead-lists", "lead_lists.list"),
        ("GET", "lead-lists/{id}", "lead_lists.get"),
        ("GET", "lead-lists/{id}/verification-stats", "lead_lists.verification_stats"),
        ("POST", "leads/list", "leads.list"),
        ("GET", "leads/{id}", "leads.get"),
        ("GET", "oauth/session/status/{sessionId}", "oauth.session_status"),
        ("GET", "subsequences", "subsequences.list"),
        ("GET", "subsequences/analytics", "subsequences.analytics"),
        ("GET", "subsequences/{id}", "subsequences.get"),
        ("GET", "subsequences/{id}/analytics/steps", "subsequences.analytics_steps"),
        ("GET", "subsequences/{id}/sending-status", "subsequences.sending_status"),
        ("GET", "supersearch-enrichment/{resource_id}", "supersearch.get"),
        ("GET", "supersearch-enrichment/ai/{resource_id}/in-progress", "supersearch.ai_in_progress"),
        ("GET", "supersearch-enrichment/history/{resource_id}", "supersearch.history"),
        ("POST", "supersearch-enrichment/count-leads-from-supersearch", "supersearch.count_leads"),
        ("POST", "supersearch-enrichment/preview-leads-from-supersearch",
         "supersearch.preview_leads"),
        ("POST", "supersearch-enrichment/signal-keywords-facet", "supersearch.signal_keywords"),
        ("GET", "webhooks", "webhooks.list"),
        ("GET", "webhooks/{id}", "webhooks.get"),
        ("GET", "webhooks/event-types", "webhooks.event_types"),
        ("GET", "webhook-events", "webhook_events.list"),
        ("GET", "webhook-events/{id}", "webhook_events.get"),
        ("GET", "webhook-events/summary", "webhook_events.summary"),
        ("GET", "webhook-events/summary-by-date", "webhook_events.summary_by_date"),
        ("GET", "workspace-billing/plan-details", "workspace_billing.plan_details"),
        ("GET", "workspace-billing/subscription-details", "workspace_billing.subscription_details"),
        ("GET", "workspace-group-members", "workspace_group_members.list"),
        ("GET", "workspace-group-members/{id}", "workspace_group_members.get"),
        ("GET", "workspace-group-members/admin", "workspace_group_members.admin"),
        ("GET", "workspace-members", "workspace_members.list"),
        ("GET", "workspace-members/{id}", "workspace_members.get"),
        ("GET", "workspaces/current", "workspaces.current"),
        ("GET", "workspaces/current/whitelabel-domain", "workspaces.whitelabel_domain"),
    )
)

OFFSET_PAGED = {"supersearch.history"}
BODY_CURSOR = {"leads.list"}
KEYED = {"accounts.warmup_analytics"}
STEP_TABLES = {"campaigns.analytics_steps", "subsequences.analytics_steps"}
DEFAULT_PAGE_LIMIT = 100

# Short labels where the spec's meaning of a code is a sentence: (schema field, code) -> label.
LABELS: dict[tuple[str, Any], str] = {
    ("status", 3): "Maintenance pause",
    ("not_sending_status", 1): "Outside schedule",
    ("not_sending_status", 2): "Waiting for leads",
    ("not_sending_status", 3): "Daily limit reached",
    ("not_sending_status", 4): "Accounts at daily limit",
    ("not_sending_status", 99): "Error",
    ("activity_type", 30): "MFA lockout",
}
VARIANT_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
ISO_TS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
SCOPES = re.compile(r"Requires one of the following scopes:([^\n]*)")
PER_MINUTE = re.compile(r"rate limit of (\d+) requests? per minute", re.I)
METHODS = ("get", "post", "put", "patch", "delete")


class Spec:
    """The OpenAPI document with ``$ref`` and ``allOf`` resolved on demand."""

    def __init__(self, doc: dict[str, Any]):
        self.doc = doc
        self.schemas = doc.get("components", {}).get("schemas", {})

    def resolve(self, node: Any, seen: tuple[str, ...] = ()) -> Any:
        """Return ``node`` with every ``$ref`` replaced and ``allOf`` merged (recursively)."""
        if isinstance(node, list):
            return [self.resolve(x, seen) for x in node]
        if not isinstance(node, dict):
            return node
        if "$ref" in node:
            ref = node["$ref"]
            if ref in seen:  # a cycle: stop here, the value becomes free-form JSON
                return {}
            target = self.schemas[ref.rsplit("/", 1)[-1]]
            return self.resolve(target, (*seen, ref))
        out = {k: self.resolve(v, seen) for k, v in node.items() if k != "allOf"}
        for part in (self.resolve(p, seen) for p in node.get("allOf", ())):
            out.setdefault("type", part.get("type"))
            out["properties"] = {**out.get("properties", {}), **part.get("properties", {})}
            out["required"] = [*out.get("required", []), *part.get("required", [])]
        return out

    def operations(self) -> list[tuple[str, str, dict[str, Any]]]:
        """(METHOD, path, operation) of every operation, in document order."""
        return [(m.upper(), path, op) for path, item in self.doc["paths"].items()
                for m, op in item.items() if m in METHODS]


# -- types ----------------------------------------------------------------------------------
def types_of(schema: dict[str, Any]) -> list[str]:
    """The non-null JSON types a schema allows (``anyOf``/``oneOf`` variants included)."""
    t = schema.get("type")
    found = list(t) if isinstance(t, list) else [t] if t else []
    for key in ("anyOf", "oneOf"):
        for variant in schema.get(key, ()):
            found += types_of(variant)
    if not found and "properties" in schema:
        found = ["object"]
    return list(dict.fromkeys(x for x in found if x and x != "null"))


def main_type(schema: dict[str, Any]) -> str | None:
    found = types_of(schema)
    if len(found) == 1:
        return found[0]
    if found and set(found) <= {"integer", "number"}:
        return "number"
    if {"object", "array"} & set(found):
        return "object"
    return "string" if found else None


def int_codes(schema: dict[str, Any]) -> bool:
    codes = [c for c in schema.get("enum", ()) if c is not None]
    return bool(codes) and all(isinstance(c, int) and not isinstance(c, bool) for c in codes)


def scalar_dtype(name: str, schema: dict[str, Any]) -> str:
    t = main_type(schema)
    if t == "integer" or (t == "number" and int_codes(schema)):
        return "int"
    if t == "number":
        mixed = any(isinstance(c, str) for c in schema.get("enum", ()))
        return "str" if mixed else "float"
    if t == "boolean":
        return "bool"
    if t == "string":
        return string_dtype(name, schema)
    return "json"


def string_dtype(name: str, schema: dict[str, Any]) -> str:
    fmt, example = schema.get("format"), schema.get("example")
    example = example if isinstance(example, str) else ""
    if fmt == "date-time":
        return "datetime"
    if fmt == "date" or name == "date" or (name.endswith("_date") and ISO_DATE.match(example)):
        return "date"
    if (name.startswith("timestamp_") and not name.endswith("_date")) or ISO_TS.match(example):
        return "datetime"
    return "str"


def list_dtype(schema: dict[str, Any]) -> str:
    items = schema.get("items") or {}
    inner = scalar_dtype("", items) if main_type(items) not in (None, "object", "array") else "json"
    return "list[str]" if inner in ("datetime", "date") else f"list[{inner}]"


# -- labels ---------------------------------------------------------------------------------
def short_label(field: str, code: Any, meaning: str) -> str:
    """The short name of an enum code: the spec's own when short, else :data:`LABELS`."""
    text = meaning.strip().rstrip(".")
    head = text.split(" - ", 1)[0]
    for candidate in (text, head):
        if len(candidate.split()) <= 5:
            return candidate
    if (field, code) in LABELS:
        return LABELS[(field, code)]
    raise SystemExit(f"enum {field}={code!r}: meaning too long for a label; add it to LABELS")


def enum_pairs(field: str, schema: dict[str, Any]) -> tuple[tuple[Any, str], ...]:
    """(code, label) pairs for numeric codes whose meanings the spec gives."""
    meanings = schema.get("x-enumDescriptions") or {}
    if not int_codes(schema) or not meanings:
        return ()
    codes = [c for c in schema["enum"] if c is not None]
    codes += [int(k) for k in meanings if re.fullmatch(r"-?\d+", k) and int(k) not in codes]
    return tuple((c, short_label(field, c, meanings[str(c)])) for c in codes if str(c) in meanings)


# -- fields ---------------------------------------------------------------------------------
def flatten(schema: dict[str, Any], prefix: str = "") -> list[tuple[str, str, tuple]]:
    """(column, dtype, enum pairs) of an object schema, per the naming rule of ``spec.py``."""
    out: list[tuple[str, str, tuple]] = []
    for key, prop in (schema.get("properties") or {}).items():
        column = prefix + key
        t = main_type(prop)
        if t == "object" and prop.get("properties"):
            out += flatten(prop, column + "__")
        elif t == "array":
            out.append((column, list_dtype(prop), ()))
        else:
            out.append((column, scalar_dtype(key, prop), enum_pairs(key, prop)))
    return out


def response_schema(op: dict[str, Any]) -> tuple[int, str, dict[str, Any]]:
    """(success status, content type, resolved schema) of an operation's 2xx answer."""
    status = min(int(c) for c in op["responses"] if c.startswith("2"))
    content = op["responses"][str(status)].get("content") or {}
    ctype = next(iter(content), "")
    return status, ctype, content.get(ctype, {}).get("schema") or {}


def envelope_of(name: str, ctype: str, schema: dict[str, Any]) -> str:
    if "json" not in ctype:
        return "text"
    if name in KEYED:
        return "keyed"
    if main_type(schema) == "array":
        return "array"
    items = (schema.get("properties") or {}).get("items")
    return "items" if items and main_type(items) == "array" else "object"


def csv_fields(schema: dict[str, Any]) -> list[tuple]:
    """Columns of a CSV answer, from the header line of the spec's example."""
    lines = str(schema.get("example") or "").splitlines()
    if not lines:
        return []
    header = next(csv.reader([lines[0]]))
    first = next(csv.reader([lines[1]])) if len(lines) > 1 else [""] * len(header)
    return [(csv_column(h), "datetime" if ISO_TS.match(v or "") else "str", ())
            for h, v in zip(header, first, strict=False)]


def fields_of(name: str, envelope: str, schema: dict[str, Any], spec: Spec) -> list[tuple]:
    if envelope == "text":
        return csv_fields(schema)
    if envelope == "keyed":  # one row per account per day, columns from the per-day counters
        day = schema["properties"]["email_date_data"]["additionalProperties"]["additionalProperties"]
        return [("email", "str", ()), ("date", "date", ())] + [
            (k, "int", ()) for k in day["properties"]]
    if name == "accounts.test_vitals":  # one row per account of success_list and failure_list
        return flatten(schema["properties"]["success_list"]["items"]) + [("status", "str", ())]
    item = schema.get("items") if envelope == "array" else (
        schema["properties"]["items"].get("items") if envelope == "items" else schema)
    out = flatten(item or {})
    if name in STEP_TABLES:  # the API sends step and variant as strings of integers
        variants = tuple(enumerate(VARIANT_LETTERS))
        out = [(c, "int", variants if c == "variant" else ()) if c in ("step", "variant")
               else (c, d, e) for c, d, e in out]
    if name == "campaigns.analytics":  # campaign_status carries the campaign status codes
        status = spec.resolve(spec.schemas["Campaign"]["properties"]["status"])
        out = [(c, "int", enum_pairs("status", status)) if c == "campaign_status" else (c, d, e)
               for c, d, e in out]
    return out


# -- params ---------------------------------------------------------------------------------
def param_of(name: str, location: str, schema: dict[str, Any], required: bool) -> dict[str, Any]:
    items = schema.get("items") or {}
    default = schema.get("default")
    return {
        "name": name, "location": location, "type": main_type(schema) or "string",
        "required": required, "format": schema.get("format"),
        "items": main_type(items) if items else None, "items_format": items.get("format"),
        "enum": tuple(c for c in (schema.get("enum") or items.get("enum") or ()) if c is not None),
        "minimum": schema.get("minimum"), "maximum": schema.get("maximum"),
        "min_items": schema.get("minItems"), "max_items": schema.get("maxItems"),
        "default": tuple(default) if isinstance(default, list) else default,
    }


def params_of(op: dict[str, Any]) -> list[dict[str, Any]]:
    out = [param_of(p["name"], p["in"], p.get("schema") or {}, bool(p.get("required")))
           for p in op.get("parameters", ()) if p.get("in") in ("path", "query")]
    body = ((op.get("requestBody") or {}).get("content") or {}).get("application/json") or {}
    schema = body.get("schema") or {}
    required = set(schema.get("required") or ())
    out += [param_of(k, "body", v, k in required) for k, v in (schema.get("properties") or {}).items()]
    order = {"path": 0, "query": 1, "body": 2}
    return sorted(out, key=lambda p: order[p["location"]])


def pagination_of(name: str, method: str, params: list[dict[str, Any]]) -> tuple[str, int | None]:
    names = {(p["location"], p["name"]): p for p in params}
    if name in BODY_CURSOR:
        kind, limit = "cursor_body", names.get(("body", "limit"))
    elif name in OFFSET_PAGED:
        kind, limit = "offset", names.get(("query", "limit"))
    elif ("query", "starting_after") in names:
        kind, limit = "cursor_query", names.get(("query", "limit"))
    else:
        return "none", None
    maximum = (limit or {}).get("maximum")
    return kind, int(maximum) if maximum else DEFAULT_PAGE_LIMIT


def scopes_of(op: dict[str, Any]) -> tuple[str, ...]:
    found = SCOPES.search(op.get("description") or "")
    return tuple(s.strip(" `") for s in found.group(1).split(",") if s.strip(" `")) if found else ()


def build(spec_path: Path) -> tuple[list[dict[str, Any]], list[tuple[str, str]]]:
    """The read entries (as plain dicts, in table order) and the write operations."""
    spec = Spec(json.loads(spec_path.read_text(encoding="utf-8")))
    ops = {(m, p): op for m, p, op in spec.operations()}
    missing = [(m, p) for m, p, _ in READS if (m, p) not in ops]
    if missing:
        raise SystemExit(f"operations named in READS are absent from the spec: {missing}")
    entries = []
    for method, path, name in READS:
        op = spec.resolve(ops[(method, path)])
        status, ctype, schema = response_schema(op)
        params = params_of(op)
        envelope = envelope_of(name, ctype, schema)
        pagination, page_limit = pagination_of(name, method, params)
        rate = PER_MINUTE.search(op.get("description") or "")
        entries.append({
            "name": name, "operation_id": op.get("operationId", ""), "method": method,
            "path": path, "params": params, "pagination": pagination, "envelope": envelope,
            "fields": fields_of(name, envelope, schema, spec), "page_limit": page_limit,
            "scopes": scopes_of(op), "per_minute": int(rate.group(1)) if rate else None,
            "success_status": status, "tags": tuple(op.get("tags") or ()),
        })
    reads = {(m, p) for m, p, _ in READS}
    writes = [(m, p) for m, p, _ in spec.operations() if (m, p) not in reads]
    return entries, writes


# -- rendering ------------------------------------------------------------------------------
HEADER = '''"""The endpoint table: one :class:`~instantly_nb.spec.Endpoint` per read operation of the API.

GENERATED by ``scripts/gen_endpoints.py`` from the official OpenAPI document. Do not edit by hand:
change the generator and run ``python scripts/gen_endpoints.py``.
"""

# fmt: off
from __future__ import annotations

from .spec import Endpoint, Field, Param

__all__ = ["ENDPOINTS", "WRITE_OPERATIONS"]
'''
PARAM_DEFAULTS = {"required": False, "format": None, "items": None, "items_format": None,
                  "enum": (), "minimum": None, "maximum": None, "min_items": None,
                  "max_items": None, "default": None}


def render_param(p: dict[str, Any]) -> str:
    extra = "".join(f", {k}={v!r}" for k, v in p.items()
                    if k in PARAM_DEFAULTS and v != PARAM_DEFAULTS[k])
    return f"Param({p['name']!r}, {p['location']!r}, {p['type']!r}{extra})"


def render_field(column: str, dtype: str, enum: tuple) -> str:
    return f"Field({column!r}, {dtype!r}{', ' + repr(enum) if enum else ''})"


def block(key: str, items: list[str]) -> list[str]:
    if not items:
        return [f"        {key}=(),"]
    return [f"        {key}=(", *(f"            {x}," for x in items), "        ),"]


def render_entry(e: dict[str, Any]) -> list[str]:
    lines = [f"    {e['name']!r}: Endpoint(",
             f"        name={e['name']!r},",
             f"        operation_id={e['operation_id']!r},",
             f"        method={e['method']!r},",
             f"        path={e['path']!r},"]
    lines += block("params", [render_param(p) for p in e["params"]])
    lines += [f"        pagination={e['pagination']!r},", f"        envelope={e['envelope']!r},"]
    lines += block("fields", [render_field(*f) for f in e["fields"]])
    for key, default in (("page_limit", None), ("scopes", ()), ("per_minute", None),
                         ("success_status", 200), ("tags", ())):
        if e[key] != default:
            lines.append(f"        {key}={e[key]!r},")
    return lines + ["    ),"]


def render_module(entries: list[dict[str, Any]], writes: list[tuple[str, str]]) -> str:
    lines = [HEADER, "ENDPOINTS: dict[str, Endpoint] = {"]
    for e in entries:
        lines += render_entry(e)
    lines += ["}", "", "WRITE_OPERATIONS: tuple[tuple[str, str], ...] = ("]
    lines += [f"    ({m!r}, {p!r})," for m, p in writes] + [")", ""]
    return "\n".join(lines)


def render_doc(entries: list[dict[str, Any]]) -> str:
    lines = ["# Endpoints", "",
             "Every read operation of the Instantly API V2 that instantly_nb can fetch, by name "
             "(`client.fetch(name, ...)`).", "",
             "Generated by `scripts/gen_endpoints.py`; do not edit by hand. *paging*: `cursor_query` "
             "and `cursor_body` follow `next_starting_after` (in the query string or the JSON body), "
             "`offset` pages with `offset`/`limit`, `none` is one request. *envelope*: where the "
             "records are in the answer (`items` list, bare `array`, one `object`, `keyed` maps, "
             "CSV `text`). *columns*: declared columns including `<field>_label` columns.", "",
             "| name | method | path | paging | envelope | columns |",
             "| --- | --- | --- | --- | --- | ---: |"]
    for e in entries:
        columns = sum(2 if f[2] else 1 for f in e["fields"])
        lines.append(f"| `{e['name']}` | {e['method']} | `{e['path']}` | {e['pagination']} "
                     f"| {e['envelope']} | {columns} |")
    return "\n".join(lines + render_facts()) + "\n"


def render_facts() -> list[str]:
    """What the client does beyond the document, as declared in ``instantly_nb/endpoint_facts.py``."""
    lines = ["", "## Beyond the document", "",
             "Declared once in `instantly_nb/endpoint_facts.py` and read by the client.", "",
             "| name | what the client does |", "| --- | --- |"]
    rows: dict[str, list[str]] = {}
    for view in facts.VIEWS.values():
        rows.setdefault(view.name, []).append(
            f"view of `{view.source}`: {view.summary}")
    for name, days in facts.WINDOW_DAYS.items():
        rows.setdefault(name, []).append(f"date windows longer than {days} days are split")
    for name in sorted(facts.EVERY_ACCOUNT):
        rows.setdefault(name, []).append("`emails` defaults to every account of the workspace")
    for name in sorted(facts.REPEATED_ROWS):
        rows.setdefault(name, []).append("rows repeated across split requests are dropped")
    for name in sorted(facts.HISTORY):
        rows.setdefault(name, []).append("each fresh fetch is added to a dated history")
    for name, inc in facts.INCREMENTAL.items():
        rows.setdefault(name, []).append(
            f"a stale snapshot asks only for rows past its largest `{inc.column}` "
            f"(`{inc.resume}`)")
    for name, column in facts.DAILY.items():
        rows.setdefault(name, []).append(
            f"kept per day (`{column}`) in the store: a window fetches only the days it lacks")
    for resource, column in facts.ID_COLUMNS.items():
        rows.setdefault(f"{resource}.*", []).append(
            f"a list given for `id` fans out, one request per value, adding column `{column}`")
    lines += [f"| `{name}` | {'; '.join(what)} |" for name, what in sorted(rows.items())]
    return lines


def render(spec_path: Path = DEFAULT_SPEC) -> tuple[str, str]:
    """The text of ``instantly_nb/endpoints.py`` and of ``docs/ENDPOINTS.md`` for a spec file."""
    entries, writes = build(spec_path)
    return render_module(entries, writes), render_doc(entries)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("spec", nargs="?", type=Path, default=DEFAULT_SPEC,
                        help="path of the OpenAPI JSON document")
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 when a committed file is out of date")
    args = parser.parse_args(argv)
    if not args.spec.is_file():
        parser.error(f"no OpenAPI document at {args.spec}; pass its path as the first argument")
    outputs = dict(zip((MODULE, DOC), render(args.spec), strict=True))
    stale = [p for p, text in outputs.items()
             if not p.is_file() or p.read_text(encoding="utf-8") != text]
    if args.check:
        for p in stale:
            print(f"out of date: {p.relative_to(ROOT)}; run python scripts/gen_endpoints.py")
        return 1 if stale else 0
    for p in stale:
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(outputs[p], encoding="utf-8")
        print(f"wrote {p.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
