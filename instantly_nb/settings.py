"""Client settings from arguments and the environment: key, base URL, pacing, cache folder.

Environment variables read here (arguments always win):

* ``INSTANTLY_API_KEY`` -- the V2 API key;
* ``INSTANTLY_BASE_URL`` -- the API's address (``https://api.instantly.ai`` by default);
* ``INSTANTLY_NB_PACING`` -- pacing for clients created without explicit rates, e.g.
  ``"rate_per_second=95,emails.list=19"`` (report runs on the demo workspace pass the demo
  server's relaxed limits to their kernels this way);
* ``INSTANTLY_NB_CACHE`` -- where ``instantly-nb pull`` and notebooks keep snapshots.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .errors import ConfigurationError
from .scope import interruptible_sleep
from .throttle import DEFAULT_ENDPOINT_WINDOWS, RateWindow, Throttle

__all__ = ["DEFAULT_BASE_URL", "KEY_ENV", "URL_ENV", "PACING_ENV", "CACHE_ENV", "api_key",
           "base_url", "default_cache_dir", "format_pacing", "make_throttle", "parse_pacing"]

DEFAULT_BASE_URL = "https://api.instantly.ai"
KEY_ENV = "INSTANTLY_API_KEY"
URL_ENV = "INSTANTLY_BASE_URL"
PACING_ENV = "INSTANTLY_NB_PACING"
CACHE_ENV = "INSTANTLY_NB_CACHE"


def api_key(given: str | None) -> str:
    """The key to send: ``given``, else ``INSTANTLY_API_KEY``; ConfigurationError when neither."""
    key = given if given is not None else os.environ.get(KEY_ENV)
    if not key or not key.strip():
        raise ConfigurationError(
            f"No Instantly API key: pass Client(api_key=...) or set {KEY_ENV}. Create a "
            "V2 key in the Instantly app under Settings > Integrations > API Keys; the scope "
            "all:read is enough. To try instantly_nb without a key, use Client.demo()."
        )
    return key.strip()


def base_url(given: str | None) -> str:
    """The API's address: ``given``, else ``INSTANTLY_BASE_URL``, else the public API."""
    url = (given or os.environ.get(URL_ENV) or DEFAULT_BASE_URL).rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise ConfigurationError(f"base_url must start with http:// or https://, got {url!r}.")
    return url


def make_throttle(rate_per_second: int | None, rate_per_minute: int | None,
                  endpoint_per_minute: Mapping[str, int] | None) -> Throttle:
    """The client's one throttle: arguments, else ``INSTANTLY_NB_PACING``, else the defaults."""
    env_pacing = parse_pacing(os.environ.get(PACING_ENV, ""))
    rate_per_second = rate_per_second or env_pacing.pop("rate_per_second", 95)
    rate_per_minute = rate_per_minute or env_pacing.pop("rate_per_minute", 5_800)
    env_pacing.pop("rate_per_second", None)
    env_pacing.pop("rate_per_minute", None)
    per_minute = {name: windows[0].limit for name, windows in DEFAULT_ENDPOINT_WINDOWS.items()}
    per_minute.update(env_pacing)
    if endpoint_per_minute is not None:
        per_minute = dict(endpoint_per_minute)
    return Throttle(
        (RateWindow(rate_per_second, 1.0), RateWindow(rate_per_minute, 60.0)),
        {name: (RateWindow(n, 60.0),) for name, n in per_minute.items()},
        sleep=interruptible_sleep,
    )


def format_pacing(pacing: Mapping[str, Any]) -> str:
    """``Client.demo``-style pacing settings as the text of ``INSTANTLY_NB_PACING``."""
    parts = [f"{k}={int(pacing[k])}" for k in ("rate_per_second", "rate_per_minute") if k in pacing]
    parts += [f"{name}={int(n)}" for name, n in (pacing.get("endpoint_per_minute") or {}).items()]
    return ",".join(parts)


def parse_pacing(text: str) -> dict[str, int]:
    """The settings of ``INSTANTLY_NB_PACING`` ("rate_per_second=95,emails.list=19")."""
    out: dict[str, int] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, sep, value = part.partition("=")
        try:
            number = int(value)
        except ValueError:
            number = 0
        if not sep or number < 1:
            raise ConfigurationError(
                f"{PACING_ENV} must look like 'rate_per_second=95,rate_per_minute=5800,"
                f"emails.list=19' (positive whole numbers); got {text!r}.")
        out[name.strip()] = number
    return out


def default_cache_dir() -> Path:
    """Where ``instantly-nb pull`` and notebooks keep snapshots unless told otherwise."""
    return Path(os.environ.get(CACHE_ENV, "~/.cache/instantly_nb")).expanduser()
