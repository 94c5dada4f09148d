"""Print a written report to PDF with headless Chromium (``instantly-nb report --pdf``).

On paper every chart shows the static picture drawn at build time (the print stylesheet hides
the interactive one), so nothing waits on asynchronous drawing and the PDF is the same on every
run; buttons are hidden. The print stylesheet keeps headings with what follows and
never splits a chart or a table row across pages.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from instantly_nb.errors import ConfigurationError

__all__ = ["BROWSERS", "ChromiumNotFoundError", "PdfError", "find_chromium", "write_pdf"]

#: Executable names tried, in order, when no browser is given.
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync",
    "--disable-background-networking", "--disable-component-update", "--disable-extensions",
    "--no-pdf-header-footer",
]


class PdfError(ConfigurationError):
    """The PDF could not be written (the message says why and what to do)."""


class ChromiumNotFoundError(PdfError):
    """No headless Chromium to print with."""


def find_chromium(browser: str | os.PathLike[str] | None = None) -> Path:
    """Path of the browser to print with: ``browser``, ``$INSTANTLY_NB_CHROMIUM`` or the PATH.

    Raises
    ------
    ChromiumNotFoundError
        When none is found; the message names ``apt-get install chromium``.
    """
    wanted = browser or os.environ.get("INSTANTLY_NB_CHROMIUM")
    candidates = [str(wanted)] if wanted else list(BROWSERS)
    for name in candidates:
        found = shutil.which(name)
        if found:
            return Path(found)
    tried = ", ".join(candidates)
    raise ChromiumNotFoundError(
        f"--pdf needs headless Chromium and none was found (tried {tried}). Install it with "
        "`sudo apt-get install chromium` (Debian/Ubuntu), or set INSTANTLY_NB_CHROMIUM to the "
        "path of a Chromium or Chrome executable; the HTML report was written all the same."
    )


def write_pdf(
    html: Path, pdf: Path, *, browser: str | os.PathLike[str] | None = None, timeout: int = 180
) -> Path:
    """Print the report page ``html`` to ``pdf`` (A4) and return ``pdf``.

    The PDF is written under a temporary name and moved into place, so a failed print never
    leaves a half-written file under the final name.

    Raises
    ------
    ChromiumNotFoundError
        No browser (see :func:`find_chromium`).
    PdfError
        The browser failed or timed out, or wrote no PDF.
    """
    executable = find_chromium(browser)
    pdf.parent.mkdir(parents=True, exist_ok=True)
    partial = pdf.with_name(pdf.name + ".partial")
    with tempfile.TemporaryDirectory(prefix="instantly-nb-pdf-") as profile:
        command = [
            str(executable), *_ARGS, f"--user-data-dir={profile}",
            f"--print-to-pdf={partial}", html.resolve().as_uri(),
        ]
        try:
            done = subprocess.run(
                command, capture_output=True, text=True, timeout=timeout, check=False,
                env={**os.environ, "HOME": profile},
            )
        except subprocess.TimeoutExpired:
            partial.unlink(missing_ok=True)
            raise PdfError(f"{executable} did not finish printing within {timeout} s") from None
    if done.returncode != 0 or not partial.exists() or partial.stat().st_size == 0:
        partial.unlink(missing_ok=True)
        last = (done.stderr or "").strip().splitlines()[-1:] or ["no message"]
        raise PdfError(
            f"{executable} could not print the report (exit {done.returncode}: {last[0]})"
        )
    os.replace(partial, pdf)
    return pdf
