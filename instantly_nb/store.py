"""The snapshot store: fetched frames kept as parquet on disk.

Layout under the store's root::

    <root>/<workspace id>/<endpoint name>/<params hash>.parquet   the frame
    <root>/<workspace id>/<endpoint name>/<params hash>.json      its record: parameters, rows,
                                                                   fetch time, sha256 of the file
    <root>/<workspace id>/history/<endpoint name>.parquet          dated snapshots of point-in-time
                                                                   data (``snapshot_date`` column)
    <root>/<workspace id>/<endpoint name>/days-<params hash>.*     daily analytics kept per day:
                                                                   the rows, and per day the time
                                                                   it was fetched
    <root>/workspaces.json                                         which workspace a key opens,
                                                                   under a salted hash of key + URL

A snapshot is keyed by workspace, endpoint and parameters -- never by the API key, which is
never written anywhere (``workspaces.json`` holds a salted SHA-256 of it, so a new client on the
same store knows its workspace without asking the API). A file whose checksum, size or parquet footer does not match its
record is treated as missing (and fetched again). Everything is plain parquet, so DuckDB, Spark
or pandas can read the store directly.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import secrets
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from .errors import StoreError

__all__ = ["Store", "Snapshot", "DEFAULT_TTL"]

DEFAULT_TTL = 6 * 3600.0  # seconds: a notebook re-run within a working day hits the store


@dataclass(frozen=True)
class Snapshot:
    frame: pl.DataFrame
    fetched_at: float  # unix seconds
    params: dict[str, Any]

    def age(self, now: float | None = None) -> float:
        return (time.time() if now is None else now) - self.fetched_at


def _params_key(params: Mapping[str, Any]) -> str:
    text = json.dumps(params, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _safe(part: str) -> str:
    cleaned = "".join(c if c.isalnum() or c in "._-" else "_" for c in part)
    if not cleaned or cleaned in (".", ".."):
        raise StoreError(f"cannot use {part!r} as a store folder name")
    return cleaned


class Store:
    """Parquet snapshots of frames, with a TTL.

    Parameters
    ----------
    root : path
        Folder of the store (created on first write).
    ttl : float
        Seconds a snapshot stays fresh (``DEFAULT_TTL``, six hours, by default).
    clock : callable
        Unix time source, injectable for tests.
    lookback_days : int
        Daily analytics of the most recent days are fetched again on a refresh, since the API
        still corrects them (7 by default); see :mod:`instantly_nb.daily`.
    """

    def __init__(self, root: str | os.PathLike[str], ttl: float = DEFAULT_TTL, *,
                 clock: Callable[[], float] = time.time, lookback_days: int = 7):
        self.root = Path(root).expanduser()
        self.ttl = float(ttl)
        self.lookback_days = int(lookback_days)
        self._clock = clock

    def __repr__(self) -> str:
        return f"Store(root={str(self.root)!r}, ttl={self.ttl:g})"

    def _paths(self, workspace: str, name: str, params: Mapping[str, Any]) -> tuple[Path, Path]:
        folder = self.root / _safe(workspace) / _safe(name)
        key = _params_key(params)
        return folder / f"{key}.parquet", folder / f"{key}.json"

    def get(
        self, workspace: str, name: str, params: Mapping[str, Any], *, ttl: float | None = None
    ) -> Snapshot | None:
        """The stored snapshot if present, intact and fresher than ``ttl`` (None: any age)."""
        data, meta_path = self._paths(workspace, name, params)
        if not data.exists() or not meta_path.exists():
            return None
        try:
            meta = json.loads(meta_path.read_text())
            if data.stat().st_size != meta["bytes"] or _sha256(data) != meta["sha256"]:
                return None
            frame = pl.read_parquet(data)
        except (OSError, ValueError, KeyError, pl.exceptions.PolarsError):
            return None  # corrupt or truncated: the caller fetches again
        snap = Snapshot(frame=frame, fetched_at=float(meta["fetched_at"]), params=meta.get("params", {}))
        if ttl is not None and snap.age(self._clock()) > ttl:
            return None
        return snap

    def put(self, workspace: str, name: str, params: Mapping[str, Any], frame: pl.DataFrame) -> Path:
        """Write ``frame`` atomically (temp file + rename) with its record."""
        data, meta_path = self._paths(workspace, name, params)
        try:
            data.parent.mkdir(parents=True, exist_ok=True)
            _atomic_write(data, lambda p: frame.write_parquet(p))
            meta = {
                "endpoint": name,
                "params": json.loads(json.dumps(dict(params), default=str)),
                "rows": frame.height,
                "fetched_at": self._clock(),
                "bytes": data.stat().st_size,
                "sha256": _sha256(data),
            }
            _atomic_write(meta_path, lambda p: Path(p).write_text(json.dumps(meta, indent=1)))
        except OSError as exc:
            raise StoreError(f"cannot write the snapshot store at {self.root}: {exc}") from exc
        return data

    def append_history(self, workspace: str, name: str, frame: pl.DataFrame, day: dt.date | None = None) -> Path:
        """Add ``frame`` as the snapshot of ``day`` (today by default) to the dated history.

        A second snapshot of the same day replaces the first, so re-runs do not duplicate rows.
        """
        day = day or dt.datetime.fromtimestamp(self._clock(), dt.UTC).date()
        path = self.root / _safe(workspace) / "history" / f"{_safe(name)}.parquet"
        snap = frame.with_columns(pl.lit(day, dtype=pl.Date).alias("snapshot_date")).select(
            "snapshot_date", pl.exclude("snapshot_date")
        )
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            if path.exists():
                old = pl.read_parquet(path).filter(pl.col("snapshot_date") != day)
                snap = pl.concat([old, snap], how="diagonal_relaxed")
            snap = snap.sort("snapshot_date", maintain_order=True)
            _atomic_write(path, lambda p: snap.write_parquet(p))
        except (OSError, pl.exceptions.PolarsError) as exc:
            raise StoreError(f"cannot update the history {path}: {exc}") from exc
        return path

    # -- which workspace a key opens -----------------------------------------------------
    def _book(self) -> dict[str, str]:
        path = self.root / "workspaces.json"
        try:
            book = json.loads(path.read_text()) if path.exists() else {}
        except (OSError, ValueError):
            book = {}
        return book if isinstance(book, dict) else {}

    def _tag(self, book: dict[str, str], base_url: str, secret: str) -> str:
        salt = book.setdefault("_salt", secrets.token_hex(16))
        return hashlib.sha256(f"{salt}|{base_url}|{secret}".encode()).hexdigest()[:32]

    def known_workspace(self, base_url: str, secret: str) -> str | None:
        """The workspace id remembered for this key and URL, or None."""
        book = self._book()
        if "_salt" not in book:
            return None
        found = book.get(self._tag(book, base_url, secret))
        return str(found) if found else None

    def remember_workspace(self, base_url: str, secret: str, workspace: str) -> None:
        """Remember which workspace the key opens (the key itself is never written)."""
        book = self._book()
        book[self._tag(book, base_url, secret)] = workspace
        path = self.root / "workspaces.json"
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            _atomic_write(path, lambda p: Path(p).write_text(json.dumps(book, indent=1)))
        except OSError as exc:
            raise StoreError(f"cannot write the snapshot store at {self.root}: {exc}") from exc

    # -- daily analytics, per day ---------------------------------------------------------
    def _day_paths(self, workspace: str, name: str, params: Mapping[str, Any]) -> tuple[Path, Path]:
        folder = self.root / _safe(workspace) / _safe(name)
        key = _params_key(params)
        return folder / f"days-{key}.parquet", folder / f"days-{key}.json"

    def get_days(self, workspace: str, name: str, params: Mapping[str, Any]
                 ) -> tuple[pl.DataFrame | None, dict[dt.date, float]]:
        """Stored rows of a daily frame and, per day held, when it was fetched (unix seconds).

        ``params`` leave out the dates. A damaged file counts as nothing stored.
        """
        data, meta_path = self._day_paths(workspace, name, params)
        try:
            meta = json.loads(meta_path.read_text())
            if data.stat().st_size != meta["bytes"] or _sha256(data) != meta["sha256"]:
                return None, {}
            frame = pl.read_parquet(data)
            days = {dt.date.fromisoformat(d): float(t) for d, t in meta["days"].items()}
        except (OSError, ValueError, KeyError, TypeError, pl.exceptions.PolarsError):
            return None, {}
        return frame, days

    def put_days(self, workspace: str, name: str, params: Mapping[str, Any], frame: pl.DataFrame,
                 days: Mapping[dt.date, float]) -> Path:
        """Write the rows of a daily frame and the days it holds (with their fetch times)."""
        data, meta_path = self._day_paths(workspace, name, params)
        try:
            data.parent.mkdir(parents=True, exist_ok=True)
            _atomic_write(data, lambda p: frame.write_parquet(p))
            meta = {"endpoint": name, "params": json.loads(json.dumps(dict(params), default=str)),
                    "rows": frame.height, "bytes": data.stat().st_size, "sha256": _sha256(data),
                    "days": {d.isoformat(): t for d, t in sorted(days.items())}}
            _atomic_write(meta_path, lambda p: Path(p).write_text(json.dumps(meta, indent=1)))
        except OSError as exc:
            raise StoreError(f"cannot write the snapshot store at {self.root}: {exc}") from exc
        return data

    def now(self) -> float:
        """The store's clock (unix seconds)."""
        return self._clock()

    def history(self, workspace: str, name: str) -> pl.DataFrame | None:
        """The dated history of one endpoint, or None when nothing was recorded yet."""
        path = self.root / _safe(workspace) / "history" / f"{_safe(name)}.parquet"
        return pl.read_parquet(path) if path.exists() else None


def _atomic_write(path: Path, write: Callable[[str], Any]) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
