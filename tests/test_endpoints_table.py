"""The generated endpoint table against the official OpenAPI document and the naming rules."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from instantly_nb.endpoints import ENDPOINTS, WRITE_OPERATIONS
from instantly_nb.spec import DTYPES

from .conftest import GENERATOR, SPEC, shared_input

ROOT = Path(__file__).resolve().parents[1]

READ_POSTS = {
    "/api/v2/accounts/warmup-analytics", "/api/v2/accounts/test/vitals",
    "/api/v2/dfy-email-account-orders/domains/pre-warmed-up-list",
    "/api/v2/inbox-placement-analytics/stats-by-test-id",
    "/api/v2/inbox-placement-analytics/deliverability-insights",
    "/api/v2/inbox-placement-analytics/stats-by-date", "/api/v2/leads/list",
    "/api/v2/supersearch-enrichment/count-leads-from-supersearch",
    "/api/v2/supersearch-enrichment/preview-leads-from-supersearch",
    "/api/v2/supersearch-enrichment/signal-keywords-facet",
}


@pytest.fixture(scope="module")
def operations() -> set[tuple[str, str]]:
    doc = json.loads(shared_input(SPEC).read_text(encoding="utf-8"))
    return {(m.upper(), p) for p, item in doc["paths"].items() for m in item
            if m in ("get", "post", "put", "patch", "delete")}


@pytest.fixture
def spec() -> Path:
    return shared_input(SPEC)


def test_79_unique_names_keyed_by_their_own_name():
    assert len(ENDPOINTS) == 79
    assert all(name == ep.name for name, ep in ENDPOINTS.items())
    assert len({(ep.method, ep.path) for ep in ENDPOINTS.values()}) == 79


@pytest.mark.parametrize("name", list(ENDPOINTS))
def test_name_is_resource_dot_verb_without_the_noun_again(name):
    assert re.fullmatch(r"[a-z]+(_[a-z]+)*\.[a-z]+(_[a-z]+)*", name)
    resource, verb = name.split(".")
    noun = resource[:-3] + "y" if resource.endswith("ies") else resource.rstrip("s")
    assert f"_{noun}_" not in f"_{verb}_", f"{name}: the verb repeats the noun {noun!r}"


def test_every_get_and_the_ten_read_posts_are_entries(operations):
    table = {(ep.method, ep.path) for ep in ENDPOINTS.values()}
    expected = {op for op in operations if op[0] == "GET"} | {("POST", p) for p in READ_POSTS}
    assert table == expected


def test_entries_and_write_operations_cover_the_spec_once(operations):
    table = [(ep.method, ep.path) for ep in ENDPOINTS.values()]
    assert set(table) <= operations
    assert len(WRITE_OPERATIONS) == len(set(WRITE_OPERATIONS))
    assert not set(table) & set(WRITE_OPERATIONS)
    assert set(table) | set(WRITE_OPERATIONS) == operations


def test_committed_module_and_doc_match_a_fresh_generation(spec):
    module_text, doc_text = GENERATOR.render(spec)
    assert (ROOT / "instantly_nb" / "endpoints.py").read_text(encoding="utf-8") == module_text
    assert (ROOT / "docs" / "ENDPOINTS.md").read_text(encoding="utf-8") == doc_text


def test_generation_is_deterministic(spec):
    assert GENERATOR.render(spec) == GENERATOR.render(spec)


def test_page_limits():
    paged = {n: ep for n, ep in ENDPOINTS.items() if ep.pagination != "none"}
    assert paged["audit_logs.list"].page_limit == 1000
    for name, ep in paged.items():
        limit = ep.param("limit")
        assert limit is not None, name
        assert ep.page_limit == (1000 if name == "audit_logs.list" else 100), name
        if limit.maximum is not None:
            assert ep.page_limit <= limit.maximum, name
    assert all(ep.page_limit is None for ep in ENDPOINTS.values() if ep.pagination == "none")


def test_pagination_kinds():
    kinds = {n: ep.pagination for n, ep in ENDPOINTS.items()}
    assert kinds["leads.list"] == "cursor_body"
    assert ENDPOINTS["leads.list"].param("starting_after").location == "body"
    assert kinds["supersearch.history"] == "offset"
    for name, ep in ENDPOINTS.items():
        cursor = ep.param("starting_after")
        if cursor is not None and cursor.location == "query":
            assert kinds[name] == "cursor_query", name
    assert sorted(n for n, k in kinds.items() if k == "cursor_body") == ["leads.list"]


def test_rate_limits_and_envelopes():
    assert ENDPOINTS["emails.list"].per_minute == 20
    assert [n for n, ep in ENDPOINTS.items() if ep.per_minute] == ["emails.list"]
    envelopes = {n: ep.envelope for n, ep in ENDPOINTS.items()}
    assert envelopes["accounts.warmup_analytics"] == "keyed"
    assert envelopes["block_list_entries.download"] == "text"
    assert envelopes["campaigns.analytics"] == "array"
    assert envelopes["campaigns.analytics_overview"] == "object"
    assert envelopes["campaigns.list"] == "items"


def test_fields_use_the_dtype_vocabulary_and_unique_columns():
    for name, ep in ENDPOINTS.items():
        assert {f.dtype for f in ep.fields} <= set(DTYPES), name
        assert len(ep.column_names) == len(set(ep.column_names)), name
        for f in ep.fields:
            assert all(len(label.split()) <= 5 for _, label in f.enum), (name, f.name)


def test_path_params_are_required_and_named_in_the_path():
    for name, ep in ENDPOINTS.items():
        assert {p.name for p in ep.path_params} == set(re.findall(r"{(\w+)}", ep.path)), name
        assert all(p.required for p in ep.path_params), name


def test_special_entries():
    steps = ENDPOINTS["campaigns.analytics_steps"]
    assert steps.column_names[:3] == ("step", "variant", "variant_label")
    assert {f.name: f.dtype for f in steps.fields}["step"] == "int"
    assert dict(steps.fields[1].enum)[2] == "C"
    warmup = ENDPOINTS["accounts.warmup_analytics"]
    assert warmup.column_names == ("email", "date", "sent", "landed_inbox", "landed_spam",
                                   "received")
    vitals = ENDPOINTS["accounts.test_vitals"]
    assert vitals.column_names[0] == "domain" and vitals.column_names[-1] == "status"
    analytics = {f.name: f for f in ENDPOINTS["campaigns.analytics"].fields}
    assert analytics["campaign_status"].labels[1] == "Active"


def test_scopes_are_parsed_as_scope_strings():
    assert ENDPOINTS["accounts.list"].scopes == ("accounts:read", "accounts:all", "all:read",
                                                 "all:all")
    for name, ep in ENDPOINTS.items():
        assert all(re.fullmatch(r"[a-z_-]+:[a-z]+", s) for s in ep.scopes), name
    # the campaign analytics operations state no scope at all
    assert ENDPOINTS["campaigns.analytics"].scopes == ()


def test_check_mode_reports_up_to_date(spec, capsys):
    assert GENERATOR.main([str(spec), "--check"]) == 0
    assert capsys.readouterr().out == ""


def test_a_missing_shared_input_fails_in_ci_and_skips_loudly_elsewhere(tmp_path, monkeypatch):
    missing = tmp_path / "shared" / "api" / "instantly-api-v2.openapi.json"
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="MISSING SHARED INPUT"):
        shared_input(missing)
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match="MISSING SHARED INPUT .*INSTANTLY_NB_SPEC"):
        shared_input(missing)
    missing.parent.mkdir(parents=True)
    missing.write_text("{}")
    assert shared_input(missing) == missing


def test_the_spec_path_is_found_once(monkeypatch, tmp_path):
    assert SPEC == GENERATOR.DEFAULT_SPEC
    monkeypatch.setenv("INSTANTLY_NB_SPEC", str(tmp_path / "spec.json"))
    assert GENERATOR.find_spec() == tmp_path / "spec.json"
