"""The package as it installs: every subpackage listed, every public name documented."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
import tomllib
from pathlib import Path
from types import ModuleType

import pytest

import instantly_nb
from instantly_nb import metrics

REPO = Path(__file__).resolve().parents[1]


def test_every_subpackage_is_listed_for_the_wheel():
    config = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    on_disk = {".".join(p.parent.relative_to(REPO).parts)
               for p in (REPO / "instantly_nb").rglob("__init__.py")}
    assert set(config["packages"]) == on_disk | {"instantly_nb.notebooks"}
    assert config["package-dir"] == {"instantly_nb.notebooks": "notebooks"}
    assert sorted(p.stem for p in (REPO / "notebooks").glob("*.ipynb")) == [
        "ab_testing", "campaign_overview", "deliverability", "leads_and_replies", "summary",
        "workspace_tour"]


def _public_modules() -> list[ModuleType]:
    names = [m.name for m in pkgutil.walk_packages(instantly_nb.__path__, "instantly_nb.")
             if not m.name.endswith("__main__")]  # (running a __main__ starts a server)
    return [instantly_nb, *map(importlib.import_module, names)]


def test_every_public_name_exists_and_has_a_docstring():
    undocumented = []
    for module in _public_modules():
        for name in getattr(module, "__all__", ()):
            assert hasattr(module, name), f"{module.__name__}.__all__ lists {name}, which is missing"
            obj = getattr(module, name)
            if (inspect.isfunction(obj) or inspect.isclass(obj)) and not inspect.getdoc(obj):
                undocumented.append(f"{module.__name__}.{name}")
    assert undocumented == []


@pytest.mark.parametrize("module", [instantly_nb, metrics], ids=lambda m: m.__name__)
def test_every_public_name_of_the_package_is_in_the_docs(module: ModuleType):
    docs = "\n".join(p.read_text(encoding="utf-8")
                     for p in [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))])
    words = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", docs))
    missing = [n for n in module.__all__ if not n.startswith("__") and n not in words]
    assert missing == [], f"public names of {module.__name__} the README and docs/ never mention"


@pytest.mark.parametrize("name", ["VIEWS", "Window", "RateWindow", "javascript_bundle", "Workspace",
                                  "EXIT_CODES", "exit_code"])
def test_a_public_name_means_one_thing(name: str):
    holders = {m.__name__: getattr(m, name) for m in _public_modules()
               if name in getattr(m, "__all__", ())}
    assert holders, f"{name} is public nowhere"
    assert len({id(obj) for obj in holders.values()}) == 1, f"{name} means different things in {list(holders)}"
