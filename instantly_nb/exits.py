"""Exit codes of the ``instantly-nb`` commands, and which workspace a command may read.

One table (:data:`EXIT_CODES`) serves ``pull``, ``summary`` and ``report``; each lists it in its
``--help`` (:func:`help_text`). :func:`exit_code` maps an error of the toolkit to its code.

:func:`use_demo` decides whether a command reads the embedded demo workspace: with ``--demo``,
or with no ``INSTANTLY_API_KEY`` in an interactive terminal (saying so first). A scheduled run
without a key and without ``--demo`` stops with :data:`EXIT_CONFIG` and a message naming the
variable, so invented numbers never pass for a workspace's own.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping

from .errors import (
    AuthenticationError,
    BlockedRequestError,
    ConfigurationError,
    PaymentRequiredError,
    PermissionDeniedError,
)
from .settings import KEY_ENV

__all__ = ["EXIT_AUTH", "EXIT_CODES", "EXIT_CONFIG", "EXIT_FAILED", "EXIT_INTERRUPTED", "EXIT_OK",
           "demo_notice",
           "exit_code", "help_text", "use_demo"]

EXIT_OK, EXIT_FAILED, EXIT_CONFIG, EXIT_AUTH, EXIT_INTERRUPTED = 0, 1, 2, 3, 130

EXIT_CODES: dict[int, str] = {
    EXIT_OK: "done",
    EXIT_FAILED: "part of the work failed (a pull step, a report notebook); what could be "
                 "written was written and says what failed",
    EXIT_CONFIG: f"bad usage or configuration (options, dates, no {KEY_ENV} without --demo "
                 "in a non-interactive run)",
    EXIT_AUTH: "the API refused the key: 401 wrong or revoked key, 402 no paid plan, "
               "403 missing scope; nothing is written",
    EXIT_INTERRUPTED: "interrupted (Ctrl-C); a pull keeps its previous output folder whole",
}

REFUSALS = (AuthenticationError, PaymentRequiredError, PermissionDeniedError)


def help_text() -> str:
    """The exit-code table as the closing lines of a ``--help``."""
    return "exit codes:\n" + "\n".join(f"  {code}  {what}" for code, what in EXIT_CODES.items())


def exit_code(error: BaseException | type[BaseException]) -> int:
    """The exit code an error (or an error type) ends a command with.

    A 403 from a firewall in front of the API (:class:`~instantly_nb.errors.BlockedRequestError`)
    is a failure, not a refused key: the key was never checked.
    """
    kind = error if isinstance(error, type) else type(error)
    if issubclass(kind, REFUSALS) and not issubclass(kind, BlockedRequestError):
        return EXIT_AUTH
    if issubclass(kind, ConfigurationError):
        return EXIT_CONFIG
    return EXIT_FAILED


def demo_notice() -> str:
    """The line a terminal run without a key prints before it reads the demo workspace."""
    return (f"{KEY_ENV} is not set: reading the embedded DEMO workspace (invented data). "
            "Pass --demo to say so, or set the key to read your workspace.")


def use_demo(demo: bool, environ: Mapping[str, str] | None = None,
             interactive: bool | None = None,
             say: Callable[[str], None] | None = None) -> bool:
    """Whether to read the demo workspace: ``--demo``, or no key in an interactive terminal.

    Raises
    ------
    ConfigurationError
        No key, no ``--demo``, and no terminal (a scheduled or piped run).
    """
    if demo:
        return True
    env = os.environ if environ is None else environ
    if env.get(KEY_ENV, "").strip():
        return False
    if interactive is None:
        interactive = _interactive()
    if not interactive:
        raise ConfigurationError(
            f"{KEY_ENV} is not set. Set it to a V2 API key of your workspace (scope all:read), "
            "or pass --demo to read the embedded demo workspace (invented data).")
    (say or _to_stderr)(demo_notice())
    return True


def _interactive() -> bool:
    return all(getattr(stream, "isatty", lambda: False)() for stream in (sys.stdin, sys.stderr))


def _to_stderr(text: str) -> None:
    print(text, file=sys.stderr, flush=True)
