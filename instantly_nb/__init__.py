"""instantly_nb: Instantly.ai API V2 analytics in JupyterLab.

Typed polars frames for every read endpoint, campaign funnels, step x variant A/B statistics,
warmup and deliverability alerts, ready-made notebooks and offline HTML reports -- and an embedded
demo workspace, so all of it runs with no account, no key and no network (``Client.demo()``).
"""

from __future__ import annotations

from typing import Any

from . import _allocator  # noqa: F401 -- first: sets polars' allocator before polars loads
from .client import Client, connect
from .dataset import open_dataset
from .endpoints import ENDPOINTS
from .errors import (
    APIError,
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    InstantlyError,
    NotFoundError,
    PaginationError,
    ParameterError,
    PayloadTooLargeError,
    PaymentRequiredError,
    PermissionDeniedError,
    RateLimitError,
    ReadOnlyError,
    ResponseShapeError,
    ServerError,
    StoreError,
    TransportError,
    UnknownEndpointError,
)
from .store import Store
from .workspaces import Workspaces
from .workspaces_file import WorkspacesFileError

__version__ = "0.1.0"

__all__ = [
    "APIError",
    "AuthenticationError",
    "BadRequestError",
    "Client",
    "ConfigurationError",
    "ENDPOINTS",
    "InstantlyError",
    "NotFoundError",
    "PaginationError",
    "ParameterError",
    "PayloadTooLargeError",
    "PaymentRequiredError",
    "PermissionDeniedError",
    "RateLimitError",
    "ReadOnlyError",
    "ResponseShapeError",
    "ServerError",
    "Store",
    "StoreError",
    "TransportError",
    "UnknownEndpointError",
    "Workspaces",
    "WorkspacesFileError",
    "connect",
    "explore",
    "open_dataset",
    "__version__",
]


def explore(client: Client, **kwargs: Any) -> Any:
    """The ipywidgets explorer (campaigns, dates, metric, step); see :mod:`instantly_nb.explorer`."""
    from .explorer import explore as _explore

    return _explore(client, **kwargs)
