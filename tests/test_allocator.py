"""instantly_nb sets polars' allocator (no per-thread caches) only when it is imported before
polars and the variable is unset: checked in fresh interpreters, as a user's process starts."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

SHOW = "import os; print(repr(os.environ.get('_RJEM_MALLOC_CONF')))"


def _run(code: str, **env: str) -> str:
    clean = {k: v for k, v in os.environ.items() if k != "_RJEM_MALLOC_CONF"}
    out = subprocess.run([sys.executable, "-c", f"{code}; {SHOW}"], env={**clean, **env},
                         capture_output=True, text=True, timeout=120, check=True)
    return out.stdout.strip().splitlines()[-1]


def test_imported_first_it_turns_thread_caches_off_and_polars_keeps_its_own_settings() -> None:
    value = _run("import instantly_nb, polars")
    assert "tcache:false" in value
    assert "dirty_decay_ms" in value  # polars put its settings in front and read ours


@pytest.mark.parametrize("preset", ["", "tcache:true", "narenas:2"])
def test_a_value_the_user_set_is_kept(preset: str) -> None:
    value = _run("import instantly_nb, polars", _RJEM_MALLOC_CONF=preset)
    assert "tcache:false" not in value
    assert value.endswith(repr(preset)[1:-1] + "'")


def test_polars_imported_first_keeps_the_allocator_it_started_with() -> None:
    assert "tcache:false" not in _run("import polars, instantly_nb")
