"""Every write goes through the store's repositories (issue 22): no module of the package outside
emotrace.core.store opens a session, touches the engine for a transaction, or imports more of SQLAlchemy than its
exceptions (to catch a store error and say it in one line)."""

import ast
from pathlib import Path

from emotrace.core.store import Store

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ("api", "core", "training", "gui", "cli")  # the folders mapped into `emotrace` (pyproject.toml)
STORE = ROOT / "core" / "store"


def _package_modules():
    for folder in PACKAGE:
        for path in sorted((ROOT / folder).rglob("*.py")):
            if STORE not in path.parents:
                yield path


def _violations(path: Path, root: Path = ROOT) -> list[str]:
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        where = f"{path.relative_to(root)}:{getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            f = node.func
            if f.attr in ("session", "sessionmaker", "scoped_session"):
                out.append(f"{where} opens a session: {ast.unparse(f)}()")
            elif f.attr in ("begin", "connect", "raw_connection") and isinstance(f.value, ast.Attribute) \
                    and f.value.attr == "engine":
                out.append(f"{where} opens a transaction on the engine: {ast.unparse(f)}()")
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "sqlalchemy" \
                and node.module != "sqlalchemy.exc":
            out.append(f"{where} imports {', '.join(a.name for a in node.names)} from {node.module}")
        elif isinstance(node, ast.Import):
            out += [f"{where} imports {a.name}" for a in node.names
                    if a.name.split(".")[0] == "sqlalchemy" and a.name != "sqlalchemy.exc"]
    return out


def test_no_module_outside_the_store_opens_a_session_or_imports_sqlalchemy():
    modules = list(_package_modules())
    assert len(modules) > 50 and ROOT / "core" / "workflows" / "transcribe.py" in modules
    found = [v for path in modules for v in _violations(path)]
    assert not found, "write through the store's repositories (core/store), not a session:\n" + "\n".join(found)


def test_the_checker_sees_a_raw_write(tmp_path):
    raw = tmp_path / "raw.py"
    raw.write_text("from sqlalchemy.orm import Session\nfrom sqlalchemy.exc import SQLAlchemyError\n"
                   "def f(store):\n    with store.db.session() as s:\n        s.add(1)\n"
                   "    with store.engine.begin() as c:\n        pass\n")
    found = _violations(raw, tmp_path)
    assert len(found) == 3 and "Session" in found[0] and "session()" in found[1] and "engine.begin" in found[2]


def test_the_store_composes_repositories_instead_of_inheriting_them():
    assert Store.__mro__ == (Store, object)
    store = Store("sqlite://")
    try:
        repositories = {name: repo for name, repo in vars(store).items() if hasattr(repo, "_db")}
        assert set(repositories) == {"corpora", "words", "segments", "raters", "labels", "predictions", "speakers",
                                     "traces", "assignments", "queue", "models", "jobs"}
        assert all(repo._db is store.db for repo in repositories.values())
    finally:
        store.close()
