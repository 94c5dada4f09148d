"""One dataset for many workspaces: hive-partitioned parquet that any engine reads.

Layout under the dataset's root::

    <root>/<endpoint>/workspace=<workspace id>/part-00000.parquet   the frame, in parts
    <root>/_workspaces/workspace=<id>/part-00000.parquet           who it is: file id, name,
                                                                   pull time, analytics window
    <root>/_pull_steps/workspace=<id>/part-00000.parquet           the pull's per-step summary

Every file of one endpoint has the same columns and dtypes, whatever the workspace: the fan-out
columns (``campaign_id``...), then the endpoint's declared columns, then ``_extra`` -- a JSON text
of any field the API sent beyond the declared ones (``null`` when there was none), so nothing is
dropped and the schema never drifts. The ``workspace`` column comes from the folder name, so::

    pl.scan_parquet("data/campaigns.analytics/**/*.parquet", hive_partitioning=True)
    duckdb.sql("select * from read_parquet('data/campaigns.analytics/**/*.parquet',"
               " hive_partitioning = true)")

read every workspace lazily (:func:`open_dataset` does the first for every endpoint). A pull
writes a workspace into a staging folder and moves each endpoint's partition into place only when
that endpoint was fetched completely; an endpoint that failed keeps its previous partition.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import shutil
import threading
import uuid
from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import polars as pl

from . import frames as shaping
from .errors import StoreError

__all__ = ["DatasetWriter", "HeldRows", "PARTITION", "EXTRA", "conform", "open_dataset", "table_schema"]

PARTITION = "workspace"
EXTRA = "_extra"
STAGING = ".staging"
META_TABLES = ("_workspaces", "_pull_steps")
#: A table's rows are held until this many bytes (in memory), then written out as a part file:
#: the bound on what a large listing holds, and parts of a size engines read well.
PART_BYTES = 4 * 2**20
#: What the writers of one side-by-side pull hold together at most (:class:`HeldRows`).
HELD_BYTES = 16 * 2**20


def table_schema(name: str, fanout: Sequence[str] = ()) -> dict[str, pl.DataType]:
    """The fixed columns of endpoint ``name`` in the dataset (fan-out columns first)."""
    declared = shaping.schema(name)
    out: dict[str, pl.DataType] = {c: pl.String() for c in fanout if c not in declared}
    out.update(declared)
    out.pop(PARTITION, None)  # the partition column comes from the folder name
    out[EXTRA] = pl.String()
    return out


def conform(frame: pl.DataFrame, schema: Mapping[str, pl.DataType]) -> pl.DataFrame:
    """``frame`` with exactly ``schema``'s columns; other columns go into ``_extra`` as JSON."""
    try:
        return frame.select(_conforming(tuple(schema.items()), tuple(frame.columns)))
    except pl.exceptions.PolarsError as exc:
        raise StoreError(f"a frame does not fit the dataset's fixed columns: {exc}") from exc


@lru_cache(maxsize=512)
def _conforming(schema: tuple[tuple[str, pl.DataType], ...], columns: tuple[str, ...]
                ) -> tuple[pl.Expr, ...]:
    """The expressions of :func:`conform`, made once per (schema, columns): a pull writes the
    same endpoints' frames again and again, and making ~60 expressions costs more than
    running them on a few pages."""
    names = {column for column, _ in schema}
    extras = [c for c in columns if c not in names]
    have = set(columns)
    exprs: list[pl.Expr] = []
    for column, dtype in schema:
        if column == EXTRA:
            exprs.append(pl.struct(extras).struct.json_encode().alias(EXTRA) if extras
                         else pl.lit(None, dtype=pl.String).alias(EXTRA))
        elif column in have:
            exprs.append(pl.col(column).cast(dtype, strict=True))
        else:
            exprs.append(pl.lit(None, dtype=dtype).alias(column))
    return tuple(exprs)


def _safe(part: str) -> str:
    cleaned = "".join(c if c.isalnum() or c in "._-" else "_" for c in part)
    if not cleaned or cleaned.startswith("."):
        raise StoreError(f"cannot use {part!r} as a dataset folder name")
    return cleaned


class HeldRows:
    """The rows held by several writers together (the workspaces of one pull), bounded: when
    they hold more than ``limit`` bytes, the table holding the most is written out as a part,
    so what many workspaces' listings hold does not grow with the number of workspaces (their
    parts get smaller instead)."""

    def __init__(self, limit: int = HELD_BYTES) -> None:
        self.limit = limit
        self._lock = threading.Lock()
        self._held: dict[tuple[DatasetWriter, str], int] = {}

    @property
    def total(self) -> int:
        """Bytes held now over all writers."""
        with self._lock:
            return sum(self._held.values())

    def note(self, writer: DatasetWriter, name: str, held: int) -> tuple[DatasetWriter, str] | None:
        """Record what table ``name`` of ``writer`` holds; the table to write out, if any."""
        with self._lock:
            if held:
                self._held[(writer, name)] = held
            else:
                self._held.pop((writer, name), None)
            if sum(self._held.values()) <= self.limit:
                return None
            return max(self._held, key=self._held.__getitem__)

    def forget(self, writer: DatasetWriter, name: str | None = None) -> None:
        """Stop counting table ``name`` of ``writer`` (every table of it when None)."""
        with self._lock:
            for key in [k for k in self._held if k[0] is writer and name in (None, k[1])]:
                del self._held[key]


class DatasetWriter:
    """Writes one workspace's tables into a staging folder; :meth:`commit` puts them in place.

    A table is written as :meth:`begin`, any number of :meth:`add` (rows held up to
    ``part_bytes``, then written out as a part file) and :meth:`finish`; :meth:`write` does
    all three for a frame fetched whole. Writers sharing a :class:`HeldRows` also write out
    their largest held table whenever all of them together hold more than its limit.
    """

    def __init__(self, root: str | os.PathLike[str], workspace_id: str, *,
                 part_bytes: int = PART_BYTES, shared: HeldRows | None = None) -> None:
        self.root = Path(root)
        self.workspace_id = _safe(workspace_id)
        self.staging = self.root / STAGING / f"{self.workspace_id}-{uuid.uuid4().hex[:8]}"
        self._parts: dict[str, int] = {}
        self._schemas: dict[str, dict[str, pl.DataType]] = {}
        self.rows: dict[str, int] = {}
        self.part_bytes = part_bytes
        self._held: dict[str, list[pl.DataFrame]] = {}
        self._held_bytes: dict[str, int] = {}
        self._lock = threading.Lock()  # the chains of one listing add parts side by side
        self.shared = shared

    def _folder(self, name: str) -> Path:
        return self.staging / _safe(name) / f"{PARTITION}={self.workspace_id}"

    def begin(self, name: str, schema: Mapping[str, pl.DataType]) -> None:
        """Start (or restart) table ``name``: earlier parts of it in this pull are discarded."""
        shutil.rmtree(self._folder(name), ignore_errors=True)
        self._folder(name).mkdir(parents=True, exist_ok=True)
        self._parts[name] = 0
        self._schemas[name] = dict(schema)
        self._held[name] = []
        self._held_bytes[name] = 0
        self.rows[name] = 0

    def add(self, name: str, frame: pl.DataFrame) -> None:
        """Append ``frame`` (conformed to the table's fixed columns) to the table: held until
        ``part_bytes`` are held, then written out as the next part file. Thread-safe (the
        chains of one listing add side by side)."""
        part = conform(frame, self._schemas[name])
        if part.height == 0:
            return
        with self._lock:
            self._held[name].append(part)
            self._held_bytes[name] += int(part.estimated_size())
            self.rows[name] += part.height
            taken = self._take(name) if self._held_bytes[name] >= self.part_bytes else None
            victim = None if self.shared is None else \
                self.shared.note(self, name, self._held_bytes[name])
        if taken is not None:
            self._write_part(name, taken[1], taken[0])
        if victim is not None:
            victim[0]._write_out(victim[1])

    def _write_out(self, name: str) -> None:
        """Write out what table ``name`` holds now, if anything (the shared bound asked; the
        table's own lock is held meanwhile, so it is not finished, dropped or committed while
        another workspace's thread writes its part)."""
        with self._lock:
            if self.shared is not None:
                self.shared.forget(self, name)
            if self._held.get(name):
                held, n = self._take(name)
                self._write_part(name, n, held)

    def _take(self, name: str) -> tuple[list[pl.DataFrame], int]:
        held, self._held[name], self._held_bytes[name] = self._held[name], [], 0
        n = self._parts[name]
        self._parts[name] = n + 1
        return held, n

    def _write_part(self, name: str, n: int, held: list[pl.DataFrame]) -> None:
        frame = pl.concat(held, how="vertical", rechunk=False) if held else \
            pl.DataFrame(schema=self._schemas[name])  # a zero-row file fixes the columns
        frame.write_parquet(self._folder(name) / f"part-{n:05d}.parquet")

    def finish(self, name: str) -> None:
        """Write out what is held of table ``name`` (a table without rows gets one zero-row
        file, so its columns are known)."""
        with self._lock:
            if not self._held[name] and self._parts[name] > 0:
                return
            held, n = self._take(name)
        if self.shared is not None:
            self.shared.forget(self, name)
        self._write_part(name, n, held)

    def write(self, name: str, frame: pl.DataFrame, schema: Mapping[str, pl.DataType]) -> None:
        """Table ``name`` as one part file (a zero-row file still fixes the columns)."""
        self.begin(name, schema)
        self.add(name, frame)
        self.finish(name)

    def drop(self, name: str) -> None:
        """Forget table ``name`` (a failed fetch): its previous partition stays in the dataset."""
        with self._lock:
            shutil.rmtree(self.staging / _safe(name), ignore_errors=True)
            self._parts.pop(name, None)
            self.rows.pop(name, None)
            self._held.pop(name, None)
            self._held_bytes.pop(name, None)
        if self.shared is not None:
            self.shared.forget(self, name)

    def commit(self) -> list[str]:
        """Move every finished table's partition into the dataset (replacing the old one)."""
        moved = []
        for name in list(self._parts):
            target = self.root / _safe(name) / f"{PARTITION}={self.workspace_id}"
            target.parent.mkdir(parents=True, exist_ok=True)
            old = self.staging / f".old-{_safe(name)}"
            if target.exists():
                os.replace(target, old)
            os.replace(self._folder(name), target)
            shutil.rmtree(old, ignore_errors=True)
            moved.append(name)
        self.abort()
        return moved

    def abort(self) -> None:
        """Remove the staging folder (nothing of this pull reaches the dataset)."""
        if self.shared is not None:
            self.shared.forget(self)
        with self._lock:
            shutil.rmtree(self.staging, ignore_errors=True)
        with contextlib.suppress(OSError):
            (self.root / STAGING).rmdir()


def workspace_record(entry_id: str, name: str, workspace_id: str, start: dt.date,
                     end: dt.date) -> pl.DataFrame:
    """The one row of ``_workspaces`` for a pulled workspace."""
    return pl.DataFrame({
        "entry": [entry_id], "name": [name], "workspace_id": [workspace_id],
        "pulled_at": [dt.datetime.now(dt.UTC)], "start_date": [start], "end_date": [end]},
        schema={"entry": pl.String, "name": pl.String, "workspace_id": pl.String,
                "pulled_at": pl.Datetime("us", "UTC"), "start_date": pl.Date, "end_date": pl.Date})


def tables(root: str | os.PathLike[str]) -> list[str]:
    """The tables of the dataset at ``root`` (endpoint names and ``_workspaces``, ``_pull_steps``)."""
    base = Path(root)
    if not base.is_dir():
        raise StoreError(f"no dataset at {base}: run `instantly-nb pull --workspaces FILE --out {base}`")
    return sorted(p.name for p in base.iterdir()
                  if p.is_dir() and not p.name.startswith(".") and any(p.glob(f"{PARTITION}=*")))


def open_dataset(root: str | os.PathLike[str], names: Sequence[str] | None = None
                 ) -> dict[str, pl.LazyFrame]:
    """Every table of the dataset as a lazy frame over all workspaces (``workspace`` column first).

    Nothing is read until the frames are collected; filters on ``workspace`` skip the other
    workspaces' files.

    >>> ds = open_dataset("data/")                                            # doctest: +SKIP
    >>> ds["campaigns.analytics"].filter(pl.col("workspace") == wid).collect()  # doctest: +SKIP
    """
    wanted = list(names) if names is not None else tables(root)
    out: dict[str, pl.LazyFrame] = {}
    for name in wanted:
        folder = Path(root) / _safe(name)
        if not folder.is_dir():
            raise StoreError(f"the dataset at {root} has no table {name!r}; it has {tables(root)}")
        lf = pl.scan_parquet(str(folder / "**" / "*.parquet"), hive_partitioning=True,
                             hive_schema={PARTITION: pl.String()})
        out[name] = lf.select(PARTITION, pl.exclude(PARTITION))
    return out


def describe(root: str | os.PathLike[str]) -> dict[str, Any]:
    """Files, bytes and workspaces of the dataset (for scale notes and benchmarks)."""
    base = Path(root)
    files = [p for p in base.rglob("*.parquet") if STAGING not in p.parts]
    return {"files": len(files), "bytes": sum(p.stat().st_size for p in files),
            "workspaces": len({p.parent.name for p in files if p.parent.name.startswith(f"{PARTITION}=")})}
