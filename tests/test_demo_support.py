"""Helpers shared by the demo-server tests (this module holds no tests itself).

Every demo test pins the history's last day to TODAY so answers are the same on any date.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import httpx
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from instantly_nb.demo import DEMO_KEY, DemoServer
from instantly_nb.demo.examples import split_params
from instantly_nb.endpoints import ENDPOINTS

from .conftest import SHARED, SPEC, shared_input

TODAY = "2026-11-20"
SEED_DOC = SHARED / "seed" / "instantly-api-v2-analytics.txt"


def bearer(key: str = DEMO_KEY) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def http(server: DemoServer, key: str = DEMO_KEY, timeout: float = 30.0) -> httpx.Client:
    """A plain httpx client of the demo server (for protocol-level checks)."""
    return httpx.Client(base_url=server.url, headers=bearer(key), timeout=timeout)


def call(client: httpx.Client, name: str, params: dict[str, Any] | None = None) -> httpx.Response:
    """One raw request to endpoint ``name`` with ``params`` put where the endpoint wants them."""
    endpoint = ENDPOINTS[name]
    path, query, body = split_params(name, params or {})
    if endpoint.method == "POST":
        return client.post(path, params=query, json=body)
    return client.get(path, params=query)


def walk(client: httpx.Client, name: str, params: dict[str, Any] | None = None,
         limit: int = 100, max_pages: int = 1000) -> list[dict[str, Any]]:
    """Every page of a cursor listing (cursor in the query, or in the body for leads)."""
    params = dict(params or {}, limit=limit)
    pages: list[dict[str, Any]] = []
    for _ in range(max_pages):
        response = call(client, name, params)
        assert response.status_code == 200, response.text
        body = response.json()
        pages.append(body)
        cursor = body.get("next_starting_after")
        if not cursor or not body["items"]:
            return pages
        params["starting_after"] = cursor
    raise AssertionError(f"{name}: more than {max_pages} pages")


@cache
def _registry() -> Registry:
    spec = json.loads(shared_input(SPEC).read_text())
    return Registry().with_resource("urn:spec", Resource.from_contents(
        spec, default_specification=DRAFT202012))


def response_validator(name: str, status: int = 200) -> Draft202012Validator:
    """A JSON Schema validator of the ``status`` answer of ``name`` ($refs resolved)."""
    endpoint = ENDPOINTS[name]
    pointer = ("/paths/" + endpoint.path.replace("~", "~0").replace("/", "~1")
               + f"/{endpoint.method.lower()}/responses/{status}/content/application~1json"
               "/schema")
    return Draft202012Validator({"$ref": "urn:spec#" + pointer}, registry=_registry(),
                                format_checker=Draft202012Validator.FORMAT_CHECKER)


def seed_example(opening: str) -> Any:
    """The JSON example of the seed document that starts with ``opening``."""
    text = shared_input(SEED_DOC).read_text()
    return json.JSONDecoder().raw_decode(text[text.index(opening):])[0]
