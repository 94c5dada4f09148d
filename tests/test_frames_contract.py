"""Every entry of ENDPOINTS through the Client from the demo server: its declared frame schema."""

from __future__ import annotations

from collections.abc import Iterator

import polars as pl
import pytest

from instantly_nb import Client, frames
from instantly_nb.demo import DEMO_KEY, DemoServer, Limits
from instantly_nb.demo.examples import example_params
from instantly_nb.endpoint_facts import VIEWS, entry_of
from instantly_nb.endpoints import ENDPOINTS

from .test_demo_support import TODAY


@pytest.fixture(scope="module")
def demo() -> Iterator[tuple[Client, dict]]:
    with DemoServer(today=TODAY, limits=Limits(enabled=False)) as server:
        with Client(api_key=DEMO_KEY, base_url=server.url, **server.client_pacing()) as client:
            yield client, example_params(server.workspace)


@pytest.mark.parametrize("name", [*ENDPOINTS, *VIEWS])
def test_every_endpoint_returns_its_declared_schema(demo, name: str) -> None:
    client, examples = demo
    params = examples[entry_of(name)]
    frame = client.fetch(name, **params)
    declared = frames.schema(name)
    assert dict(list(frame.schema.items())[: len(declared)]) == declared
    extra = [c for c in frame.columns[len(declared):] if not c.endswith("_raw")]
    if declared:  # (an endpoint whose items the spec leaves free-form keeps what comes)
        assert extra == [], f"{name}: undeclared columns {extra}"
    assert frame.height > 0, f"{name}: the demo workspace should have data here"
    empty = frames.empty(name)
    assert empty.schema == pl.Schema(declared) and empty.height == 0
