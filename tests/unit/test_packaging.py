"""The wheel installs one package, `emotrace`, mapped from the repository's folders: every folder with an
__init__.py under them is listed in pyproject.toml's packages (a missing one would be left out of the wheel),
and every listed one exists. scripts/check_wheel.sh tries the built wheel itself in a fresh venv."""

from __future__ import annotations

import tomllib

from tests.helpers import REPO


def test_every_package_folder_is_in_the_wheel():
    config = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    mapping = config["package-dir"]
    listed = set(config["packages"])
    found = set()
    for name, folder in mapping.items():
        root = REPO / folder
        for init in root.rglob("__init__.py"):
            if "__pycache__" in init.parts or "migrations" in init.relative_to(root).parts:
                continue
            rel = init.parent.relative_to(root)
            found.add(".".join([name, *rel.parts]))
    assert found == listed, (sorted(found - listed), sorted(listed - found))


def test_the_package_root_maps_every_top_level_folder():
    mapping = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["package-dir"]
    assert mapping == {"emotrace": "api", "emotrace.core": "core", "emotrace.training": "training",
                       "emotrace.gui": "gui", "emotrace.cli": "cli", "emotrace.resources": "resources"}
