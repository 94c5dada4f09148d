"""Shared fixtures: a clean environment for every test, and a fake API for HTTP-level tests."""

from __future__ import annotations

import importlib.util
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

REPO = Path(__file__).resolve().parents[1]
FAKE_KEY = "sk-test-DO-NOT-LEAK-7f3a9c"

# Debian's chromium (installed by `make browser`), started so that it never reaches the network.
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def _generator() -> Any:
    spec = importlib.util.spec_from_file_location("gen_endpoints", REPO / "scripts/gen_endpoints.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


GENERATOR = _generator()
#: The shared reference folder (``shared/``) beside the repository, where the OpenAPI document is.
SPEC = GENERATOR.find_spec()
SHARED = SPEC.parent.parent


def shared_input(path: Path) -> Path:
    """``path`` (an input from the shared reference folder), or stop the test loudly.

    In CI (``CI=true``) a missing input fails the run: a checkout without it must not pass
    without checking. Locally the test is skipped with the reason and the way to fix it.
    """
    if path.is_file():
        return path
    message = (f"MISSING SHARED INPUT {path}: the tests that check against it cannot run. Put the "
               f"shared reference folder beside the repository or set {GENERATOR.SPEC_ENV} to "
               "the OpenAPI document.")
    if os.environ.get("CI", "").strip().lower() in ("1", "true", "yes"):
        pytest.fail(message)
    pytest.skip(message)


def require_chromium() -> None:
    """Skip a browser test when chromium is missing -- but fail in CI, where make installs it."""
    if not CHROMIUM.exists():
        message = f"browser tests need Debian chromium at {CHROMIUM}: `make browser` installs it"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test sees the developer's key or base URL; progress bars are off."""
    for name in list(os.environ):
        if name.startswith("INSTANTLY_"):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("INSTANTLY_NB_PROGRESS", "0")


class Recorder:
    """An httpx.MockTransport whose answers come from a handler; it keeps every request."""

    def __init__(self, handler: Callable[[httpx.Request], httpx.Response]):
        self.handler = handler
        self.requests: list[httpx.Request] = []
        self.transport = httpx.MockTransport(self._handle)

    def _handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.handler(request)

    def paths(self) -> list[str]:
        return [r.url.path for r in self.requests]


def json_response(body: object, status: int = 200, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, content=json.dumps(body).encode(), headers={
        "Content-Type": "application/json", **(headers or {})})


@pytest.fixture
def no_sleep() -> list[float]:
    """A list that a client's injected sleep appends to instead of sleeping."""
    return []


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Debian chromium for the whole module."""
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield instance
        instance.close()
