"""polars' allocator, set for a process that imports instantly_nb before polars.

polars allocates through its own jemalloc, configured once, from the environment variable
``_RJEM_MALLOC_CONF``, when polars is first imported (polars adds its own settings in front of
what the variable holds). By default jemalloc gives every thread that allocates a cache of
freed blocks that only that thread reuses. A pull runs a hundred-odd threads (pages, chains,
fan-outs, writers), most of which shape a frame now and then, so those caches add up:
20 workspaces pulled side by side peaked at 323-347 MB with them and 292 MB without, at the
same CPU; shaping alone costs the same within 1 % (tests of this are in
``tests/test_allocator.py``, the figures in ``bench/RESULTS.md``).

So, when instantly_nb is imported before polars and nobody has set the variable, it asks for
no thread caches (``tcache:false``). A value already in the environment is left as it is (set
``_RJEM_MALLOC_CONF`` yourself -- to anything, even an empty string -- to keep jemalloc's
default), and a process that imported polars first keeps the allocator it has.
"""

from __future__ import annotations

import os
import sys

__all__ = ["SETTING", "VARIABLE", "configure"]

VARIABLE = "_RJEM_MALLOC_CONF"
SETTING = "tcache:false"


def configure() -> bool:
    """Ask polars' allocator for no thread caches, if polars is not loaded yet and the
    variable is not set; whether it did."""
    if "polars" in sys.modules or VARIABLE in os.environ:
        return False
    os.environ[VARIABLE] = SETTING
    return True


configure()  # on import: instantly_nb/__init__ imports this module before anything else
