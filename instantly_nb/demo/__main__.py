"""``python -m instantly_nb.demo``: serve the demo workspace until Ctrl-C."""

from .cli import main

raise SystemExit(main())
