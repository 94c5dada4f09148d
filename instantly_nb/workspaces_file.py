"""The workspaces file (``workspaces.toml``): one table per client workspace.

::

    [workspaces.north]
    name = "North Ltd"                   # display name in summaries and reports
    key_env = "NORTH_INSTANTLY_KEY"      # the NAME of the environment variable holding the key
    # base_url = "https://api.instantly.ai"   (optional, per workspace)

Keys never go in the file: the file is shared, versioned and copied around, the environment is
not. A value that looks like a key -- a ``key``/``api_key``/``token`` field, or a ``key_env`` that
is not the name of an environment variable -- is refused with :class:`WorkspacesFileError`,
which says where and what to do, and never repeats the value.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import ConfigurationError

__all__ = ["WorkspaceEntry", "WorkspacesFileError", "demo_keys", "read_workspaces_file",
           "resolve_keys"]

ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
TABLE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
KNOWN_FIELDS = frozenset({"name", "key_env", "base_url"})
SECRET_FIELDS = frozenset({"key", "api_key", "apikey", "token", "secret", "bearer", "password"})


class WorkspacesFileError(ConfigurationError):
    """The workspaces file cannot be used as written (the message says where and why)."""


@dataclass(frozen=True)
class WorkspaceEntry:
    """One client workspace of the file: ``id`` is the table name (``[workspaces.<id>]``)."""

    id: str
    name: str
    key_env: str
    base_url: str | None = None


def _looks_like_key(value: str) -> bool:
    """A long random-looking token: many letters and digits, mixed case, few vowels-only words."""
    if len(value) < 24:
        return False
    has_digit = any(c.isdigit() for c in value)
    has_lower = any(c.islower() for c in value)
    has_upper = any(c.isupper() for c in value)
    return has_digit and has_lower and (has_upper or not ENV_NAME.match(value))


def _entry(path: Path, wid: str, table: Any) -> WorkspaceEntry:
    where = f"{path}: [workspaces.{wid}]"
    if not TABLE_ID.match(wid):
        raise WorkspacesFileError(
            f"{path}: workspace id {wid!r} must be letters, digits, '-' or '_' (it names folders "
            "and report files).")
    if not isinstance(table, Mapping):
        raise WorkspacesFileError(f"{where} must be a table with name and key_env.")
    secret = sorted(k for k in table if k.lower() in SECRET_FIELDS)
    if secret:
        raise WorkspacesFileError(
            f"{where} has {', '.join(secret)}: API keys never go in the workspaces file. Remove it, "
            "put the key in an environment variable and name that variable with key_env = \"...\".")
    unknown = sorted(set(table) - KNOWN_FIELDS)
    if unknown:
        raise WorkspacesFileError(f"{where}: unknown field(s) {', '.join(unknown)}; "
                                  f"allowed: {', '.join(sorted(KNOWN_FIELDS))}.")
    key_env = table.get("key_env")
    if not isinstance(key_env, str) or not key_env:
        raise WorkspacesFileError(f"{where} needs key_env = \"<NAME OF AN ENVIRONMENT VARIABLE>\".")
    if _looks_like_key(key_env) or not ENV_NAME.match(key_env):
        raise WorkspacesFileError(
            f"{where}: key_env holds something that is not an environment variable name (it looks "
            "like an API key itself, which must never be written in this file). Set "
            "key_env = \"SOME_CLIENT_INSTANTLY_KEY\" and export the key in that variable.")
    name = table.get("name", wid)
    if not isinstance(name, str) or not name.strip():
        raise WorkspacesFileError(f"{where}: name must be a non-empty string.")
    if _looks_like_key(name):
        raise WorkspacesFileError(f"{where}: name looks like an API key; keys never go in this file.")
    base_url = table.get("base_url")
    if base_url is not None and (not isinstance(base_url, str)
                                 or not base_url.startswith(("http://", "https://"))):
        raise WorkspacesFileError(f"{where}: base_url must start with http:// or https://.")
    return WorkspaceEntry(wid, name.strip(), key_env, base_url)


def read_workspaces_file(path: str | os.PathLike[str]) -> list[WorkspaceEntry]:
    """The entries of a workspaces file, in file order (validated; keys are not read here)."""
    path = Path(path).expanduser()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise WorkspacesFileError(f"workspaces file {path} does not exist.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise WorkspacesFileError(f"cannot read the workspaces file {path}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise WorkspacesFileError(f"{path} is not valid TOML: {exc}") from None
    extra = sorted(set(data) - {"workspaces"})
    if extra:
        raise WorkspacesFileError(f"{path}: unknown top-level entries {', '.join(extra)}; put each "
                                  "client under [workspaces.<id>].")
    tables = data.get("workspaces")
    if not isinstance(tables, Mapping) or not tables:
        raise WorkspacesFileError(
            f"{path} lists no workspaces; add one table per client:\n\n"
            "[workspaces.north]\nname = \"North Ltd\"\nkey_env = \"NORTH_INSTANTLY_KEY\"")
    return [_entry(path, wid, table) for wid, table in tables.items()]


def demo_keys(entries: list[WorkspaceEntry]) -> dict[str, str]:
    """The demo key of every entry (``demo-key-<id>``): a distinct demo workspace per client."""
    return {e.id: f"demo-key-{e.id.lower().replace('_', '-')}" for e in entries}


def resolve_keys(entries: list[WorkspaceEntry], environ: Mapping[str, str] | None = None,
                 default: Mapping[str, str] | None = None) -> dict[str, str]:
    """``{id: key}`` from the environment; every missing variable is named in one error.

    ``default`` supplies keys for variables that are not set (demo runs use the demo keys).
    """
    environ = os.environ if environ is None else environ
    default = default or {}
    keys: dict[str, str] = {}
    missing: list[str] = []
    for entry in entries:
        value = (environ.get(entry.key_env) or "").strip() or default.get(entry.id)
        if value:
            keys[entry.id] = value
        else:
            missing.append(f"{entry.key_env} (for {entry.id})")
    if missing:
        raise WorkspacesFileError(
            "these environment variables named by the workspaces file are not set: "
            + ", ".join(missing) + ". Export each client's API key in its variable.")
    return keys
