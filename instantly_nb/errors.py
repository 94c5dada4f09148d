"""Typed errors raised by instantly_nb.

Every message names the method, the path, the HTTP status and the API's own ``message`` where
there is one, and says what to do. No message ever contains the API key.

Exception tree::

    InstantlyError
    ├── ConfigurationError            missing key, bad base URL, bad client settings
    ├── ParameterError (ValueError)   a parameter fails validation before any request is sent
    ├── UnknownEndpointError (KeyError)
    ├── ReadOnlyError                 an attempt to send a write operation
    ├── TransportError                connection refused, DNS, reset, timeout (after retries)
    │   └── TimeoutError
    ├── APIError                      the API answered with an error status
    │   ├── BadRequestError           400
    │   ├── AuthenticationError       401
    │   ├── PaymentRequiredError      402
    │   ├── PermissionDeniedError     403
    │   │   └── BlockedRequestError   403 not from the API (a firewall such as Cloudflare)
    │   ├── NotFoundError             404
    │   ├── ConflictError             409
    │   ├── PayloadTooLargeError      413
    │   ├── RateLimitError            429 (after retries)
    │   └── ServerError               5xx (after retries)
    ├── ResponseShapeError            a 2xx body that does not fit the endpoint (incl. 200 + "error")
    ├── PaginationError               a repeating cursor or the max_pages guard
    └── StoreError                    the snapshot store cannot be used

A fetch made of many requests (a list of ids, batches of e-mails, date windows) that fails raises
the failing part's own error, with the part named in a note (``add_note``) and in its ``part``
attribute: ``except NotFoundError`` catches a missing id whether one id or many were asked for.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = [
    "APIError",
    "AuthenticationError",
    "BadRequestError",
    "BlockedRequestError",
    "ConfigurationError",
    "ConflictError",
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
    "StoreError",
    "TimeoutError",
    "TransportError",
    "UnknownEndpointError",
    "describe",
    "error_for_status",
    "read_error_body",
]

KEY_URL = "https://app.instantly.ai/app/settings/integrations"


class InstantlyError(Exception):
    """Base class of every error raised by instantly_nb.

    ``part`` describes the part of a multi-request fetch that failed (None for a single request).
    """

    part: Any = None


class ConfigurationError(InstantlyError):
    """The client is not configured well enough to send a request."""


class ParameterError(InstantlyError, ValueError):
    """A parameter failed validation; no request was sent."""


class UnknownEndpointError(InstantlyError, KeyError):
    """No endpoint of that name exists in ``ENDPOINTS``."""

    def __str__(self) -> str:  # KeyError quotes its argument; keep the message readable
        return str(self.args[0]) if self.args else ""


class ReadOnlyError(InstantlyError):
    """instantly_nb only reads; a write operation was requested."""


class TransportError(InstantlyError):
    """The request could not be completed at the network level, after all retries."""

    def __init__(self, message: str, *, method: str = "", path: str = "", attempts: int = 0):
        super().__init__(message)
        self.method = method
        self.path = path
        self.attempts = attempts


class TimeoutError(TransportError):  # noqa: A001 - the domain name is the clearest
    """The API did not answer within the client's timeout, after all retries."""


class APIError(InstantlyError):
    """The API answered with an error status.

    Attributes
    ----------
    status : int
        The HTTP status of the last answer.
    method, path : str
        The request that failed (the path without the host and without the query string).
    api_message : str or None
        The ``message`` field of the API's error body, when there is one.
    api_code : str or None
        The ``code`` field of the API's error body (``"FST_ERR_VALIDATION"``), when there is one.
    attempts : int
        How many attempts were made (retries included).
    """

    hint = ""

    def __init__(
        self,
        *,
        status: int,
        method: str,
        path: str,
        api_message: str | None = None,
        attempts: int = 1,
        retry_after: float | None = None,
        extra: str = "",
        api_code: str | None = None,
    ):
        self.status = status
        self.api_code = api_code
        self.method = method
        self.path = path
        self.api_message = api_message
        self.attempts = attempts
        self.retry_after = retry_after
        parts = [f"{method} {path} answered {status}"]
        if api_message:
            parts.append(f"API message: {api_message}"
                         + (f" (code {api_code})" if api_code else ""))
        elif api_code:
            parts.append(f"API code: {api_code}")
        if attempts > 1:
            parts.append(f"after {attempts} attempts")
        text = "; ".join(parts) + "."
        hint = extra or self.hint
        if hint:
            text += " " + hint
        super().__init__(text)


class BadRequestError(APIError):
    hint = "Check the parameters against the endpoint table (instantly_nb.ENDPOINTS)."


class AuthenticationError(APIError):
    hint = (
        "The API key is missing, wrong or revoked. Create a V2 key under Settings > Integrations "
        f"> API Keys ({KEY_URL}); the scope all:read is enough for everything instantly_nb does."
    )


class PaymentRequiredError(APIError):
    hint = (
        "The workspace's plan does not include API access (402 Payment Required). Upgrade to a "
        "plan with API access in the Instantly app (Settings > Billing), or use a key of a "
        "workspace whose plan has it; a new key on the same plan will not help."
    )


class PermissionDeniedError(APIError):
    hint = "The key's scopes do not allow this read."


class BlockedRequestError(PermissionDeniedError):
    """A 403 that did not come from the API: a firewall in front of it refused the request.

    Instantly sits behind Cloudflare, which answers some clients with ``403`` and a plain-text
    body such as ``error code: 1010`` (a refused browser signature or User-Agent) before the
    request reaches the API. The key and its scopes were never checked.
    """

    hint = (
        "The request was blocked before it reached the Instantly API (a firewall answered, not "
        "the API; the key and its scopes were never checked). Try: keep instantly_nb's own "
        "User-Agent header (a proxy, a corporate gateway or a custom httpx transport may replace "
        "it with a default one, which Cloudflare refuses); another network, without VPN or "
        "proxy; and check that the base URL is https://api.instantly.ai."
    )


class NotFoundError(APIError):
    hint = "No such object in this workspace (check the id, or that the key's workspace owns it)."


class ConflictError(APIError):
    hint = "The resource is not ready yet; try again later."


class PayloadTooLargeError(APIError):
    hint = "Ask for fewer accounts or a shorter date window (at most 200 accounts and 31 days)."


class RateLimitError(APIError):
    hint = (
        "The workspace's rate limit was exceeded and retries ran out. Lower the client's rate "
        "(Client(rate_per_second=..., rate_per_minute=...)): the limit is shared by every key "
        "and tool of the workspace."
    )


class ServerError(APIError):
    hint = "The API had a server error; retries ran out. Try again later."


class ResponseShapeError(InstantlyError):
    """A success answer whose body does not fit the endpoint (including 200 with ``error``)."""

    def __init__(self, message: str, *, method: str = "", path: str = "", status: int = 200):
        super().__init__(message)
        self.method = method
        self.path = path
        self.status = status


class PaginationError(InstantlyError):
    """Pagination went wrong: a cursor repeated, or more pages than ``max_pages`` came back."""


class StoreError(InstantlyError):
    """The snapshot store cannot read or write where it was asked to."""


_BY_STATUS: dict[int, type[APIError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    402: PaymentRequiredError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    413: PayloadTooLargeError,
    429: RateLimitError,
}


def read_error_body(content_type: str, text: str) -> tuple[str | None, str | None, bool]:
    """``(message, code, from_api)`` of an error answer's body.

    ``from_api`` is True when the body is the API's JSON error envelope (an object with
    ``message``, ``error`` or ``statusCode``). Any other body (plain text, HTML) keeps a short
    excerpt as the message.
    """
    payload: Any = None
    if text.strip():
        try:
            payload = json.loads(text)
        except ValueError:
            payload = None
    if isinstance(payload, dict) and ({"message", "error", "statusCode"} & payload.keys()):
        message = payload.get("message") or payload.get("error")
        code = payload.get("code")
        return (str(message)[:500] if message else None, str(code)[:100] if code else None, True)
    excerpt = " ".join(text.split())[:200]
    if "html" in content_type.lower():
        excerpt = "an HTML page" if excerpt else ""
    return (excerpt or None, None, False)


def error_for_status(status: int) -> type[APIError]:
    """The error class for an HTTP status (5xx -> ServerError, other -> APIError)."""
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    if status >= 500:
        return ServerError
    return APIError


def describe(error: BaseException) -> str:
    """The error's message followed by its notes (such as the failing part of a fan-out)."""
    return "; ".join([str(error), *getattr(error, "__notes__", ())])
