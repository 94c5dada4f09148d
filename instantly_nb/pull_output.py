"""A pull's output folder, replaced as a unit.

``client.pull(out)`` never writes into ``out`` while it runs. Frames go to a staging folder next
to it (``.<out name>.pull-<random>``, on the same file system); only when the whole sweep is done
is a ``_manifest.json`` naming the generation written there and the staging folder renamed into
place. A pull that fails, is interrupted or is killed midway leaves ``out`` exactly as it was (the
previous complete pull, or nothing), so frames of two windows never sit side by side.

The snapshot store under ``out/.snapshots`` is not part of a generation: it is written as steps
finish (each snapshot atomically) and carried over into every new generation, so an interrupted
pull keeps what it fetched for the next run.

Because the folder is replaced, it must belong to the pull: a new or empty folder, or one a
previous pull wrote (its files are listed in its manifest). A folder holding anything else is
refused with :class:`~instantly_nb.errors.ConfigurationError` rather than moved away.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
import shutil
import tempfile
from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from pathlib import Path
from typing import Any

from .errors import ConfigurationError

__all__ = ["MANIFEST", "SNAPSHOTS", "PullOutput"]

MANIFEST = "_manifest.json"
SUMMARY = "_summary.parquet"
SNAPSHOTS = ".snapshots"


def _owned(folder: Path, known: AbstractSet[str]) -> bool:
    """True when everything in ``folder`` was written by a pull (or it is empty)."""
    entries = {p.name for p in folder.iterdir()}
    manifest = folder / MANIFEST
    if manifest.exists():
        try:
            listed = set(json.loads(manifest.read_text()).get("files", {}))
        except (OSError, ValueError, AttributeError):
            return False
        return entries <= listed | {MANIFEST, SUMMARY, SNAPSHOTS}
    # a folder written before manifests existed: its summary, frames of sweep steps, the store
    return entries <= {SNAPSHOTS} or SUMMARY in entries and entries <= known | {SUMMARY, SNAPSHOTS}


class PullOutput:
    """The staging folder of one pull and the move that publishes it."""

    def __init__(self, folder: str | os.PathLike[str], known: AbstractSet[str] = frozenset()):
        """``known``: the file names a pull writes (to recognise an older pull's folder)."""
        self.folder = Path(folder).expanduser().absolute()
        if self.folder.exists() and not self.folder.is_dir():
            raise ConfigurationError(f"pull output {self.folder} is a file; pass a folder.")
        here = Path.cwd().absolute()
        if self.folder == here or self.folder in here.parents:
            raise ConfigurationError(
                f"{self.folder} is the working directory or holds it; a pull replaces its output "
                "folder as a whole, so pass a folder of its own (e.g. --out data/pull).")
        if self.folder.is_dir() and not _owned(self.folder, known):
            raise ConfigurationError(
                f"{self.folder} holds files that a pull did not write; a pull replaces its "
                "output folder as a whole, so pass a new or empty folder (or the folder of an "
                "earlier pull).")
        self.generation = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ-") + secrets.token_hex(4)
        # created on first use: a pull that fails before its first frame leaves nothing behind
        self.staging = self.folder.parent / f".{self.folder.name}.pull-{self.generation}"

    @property
    def snapshots(self) -> Path:
        """Where the pull's own snapshot store lives (kept across generations)."""
        return self.folder / SNAPSHOTS

    def path(self, name: str) -> Path:
        """The staging path of one output file."""
        self.staging.mkdir(parents=True, exist_ok=True)
        return self.staging / name

    def had_previous(self) -> bool:
        return (self.folder / MANIFEST).exists() or (self.folder / SUMMARY).exists()

    def commit(self, files: Mapping[str, int], window: tuple[dt.date, dt.date]) -> Path:
        """Write the manifest and move the staging folder into place; returns the folder."""
        manifest: dict[str, Any] = {
            "generation": self.generation,
            "written_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "window": {"start": window[0].isoformat(), "end": window[1].isoformat()},
            "files": {name: {"rows": rows} for name, rows in sorted(files.items())},
        }
        self.path(MANIFEST).write_text(json.dumps(manifest, indent=1))
        if (self.folder / SNAPSHOTS).is_dir():
            os.replace(self.folder / SNAPSHOTS, self.staging / SNAPSHOTS)
        if self.folder.exists():
            old = Path(tempfile.mkdtemp(dir=self.folder.parent, prefix=f".{self.folder.name}.old-"))
            os.replace(self.folder, old)  # an empty directory is replaced by the old output
            os.replace(self.staging, self.folder)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(self.staging, self.folder)
        return self.folder

    def discard(self) -> None:
        """Drop the staging folder; ``out`` stays as it was."""
        shutil.rmtree(self.staging, ignore_errors=True)
