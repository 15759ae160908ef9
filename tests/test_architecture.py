"""The boundary napari keeps: the data model knows nothing of Qt. core/ and training/ never import it."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
QT = ("PySide6", "PyQt5", "PyQt6", "qtpy", "pyqtgraph", "superqt", "gui")


def imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_core_and_training_do_not_import_qt_or_the_gui():
    offenders = {}
    for package in ("core", "training"):
        for path in (ROOT / package).rglob("*.py"):
            bad = imported_modules(path) & set(QT)
            if bad and path.name != "cli_jobs.py":
                offenders[str(path.relative_to(ROOT))] = sorted(bad)
    assert offenders == {}


def test_only_the_gui_command_reaches_the_gui_lazily():
    """`emotrace gui` imports the app inside the command, so the CLI works without the gui extra."""
    tree = ast.parse((ROOT / "core" / "cli_jobs.py").read_text())
    top_level = {n.module.split(".")[0] for n in tree.body if isinstance(n, ast.ImportFrom) and n.module}
    top_level |= {a.name.split(".")[0] for n in tree.body if isinstance(n, ast.Import) for a in n.names}
    assert not top_level & set(QT)
