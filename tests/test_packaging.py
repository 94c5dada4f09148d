"""The package as it installs: every subpackage listed, every public name documented."""

from __future__ import annotations

import tomllib
from pathlib import Path

import instantly_nb

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


def test_public_names_exist_and_are_documented_in_the_readme():
    readme = (REPO / "README.md").read_text()
    for name in instantly_nb.__all__:
        assert hasattr(instantly_nb, name), name
    for name in ("Client", "Workspaces", "connect", "explore", "ENDPOINTS", "Store",
                 "ParameterError", "AuthenticationError", "NotFoundError", "ResponseShapeError"):
        assert name in readme, f"{name} is public but the README does not mention it"
    from instantly_nb import metrics

    for name in metrics.__all__:
        if not name.isupper() and name[0].islower():
            assert f"metrics.{name}" in readme or name in readme, f"metrics.{name} undocumented"
