"""``make lab``: JupyterLab on the ready-made notebooks.

With ``INSTANTLY_API_KEY`` set, the notebooks read that workspace; without it they start the
embedded demo workspace themselves (``instantly_nb.connect()``), so nothing else is needed.
"""

from __future__ import annotations

import os
import subprocess
import sys


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    folder = argv[0] if argv else "notebooks"
    if not os.environ.get("INSTANTLY_API_KEY"):
        print("No INSTANTLY_API_KEY: the notebooks will use the embedded demo workspace.")
    return subprocess.call([sys.executable, "-m", "jupyterlab", folder, *argv[1:]])


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
