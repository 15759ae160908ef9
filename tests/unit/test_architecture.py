"""The layers napari keeps, enforced: core imports neither training nor gui nor Qt; training imports no gui nor
Qt; the CLI sits above all three. import-linter checks the contracts in pyproject.toml (no exception listed;
tests/integration/test_architecture.py runs it)."""

import ast

from tests.helpers import REPO as ROOT


def test_contracts_list_no_exceptions():
    text = (ROOT / "pyproject.toml").read_text()
    assert "ignore_imports" not in text and "allow_indirect_imports" not in text


def test_the_gui_command_reaches_the_gui_lazily():
    """`emotrace gui` imports the app inside the command, so the CLI works without the gui extra."""
    for path in (ROOT / "cli").glob("*.py"):
        tree = ast.parse(path.read_text())
        top_level = {n.module.split(".")[0] for n in tree.body if isinstance(n, ast.ImportFrom) and n.module}
        top_level |= {a.name.split(".")[0] for n in tree.body if isinstance(n, ast.Import) for a in n.names}
        assert not top_level & {"gui", "PySide6", "pyqtgraph"}, path
