"""The layers napari keeps, enforced: core imports neither training nor gui nor Qt; training imports no gui nor
Qt; the CLI sits above all three (import-linter's contracts in pyproject.toml, no exception listed, run by
tests/integration/test_architecture.py). No import cycle between emotrace modules, not even through an import
inside a function; an import inside a function says why it is there."""

import ast
import io
import tokenize
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]




def test_contracts_list_no_exceptions():
    text = (ROOT / "pyproject.toml").read_text()
    assert "ignore_imports" not in text and "allow_indirect_imports" not in text


GUI_MODULES = ("emotrace.gui", "PySide6", "pyqtgraph")


def _imported_names(node: ast.Import | ast.ImportFrom) -> list[str]:
    """The modules an import statement names: `from a.b import c` names a.b and a.b.c (c may be a module)."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    if node.level or not node.module:
        return []
    return [node.module, *(f"{node.module}.{a.name}" for a in node.names)]


def _module_level_imports(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    """Imports that run when the module is imported: top level, and inside top-level if/try/with/class bodies
    (not inside functions)."""
    found, todo = [], list(tree.body)
    while todo:
        node = todo.pop()
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found.append(node)
        elif not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            todo.extend(child for child in ast.iter_child_nodes(node) if isinstance(child, ast.stmt))
            for handler in getattr(node, "handlers", []):
                todo.extend(handler.body)
    return found


def _is_gui(name: str) -> bool:
    return any(name == m or name.startswith(m + ".") for m in GUI_MODULES)


def test_the_gui_command_reaches_the_gui_lazily():
    """`emotrace gui` imports the app inside the command, so the CLI works without the gui extra: no cli module
    imports emotrace.gui, PySide6 or pyqtgraph when it is imported, and the gui command does import the app."""
    lazily = []
    for path in sorted((ROOT / "cli").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        eager = [n for node in _module_level_imports(tree) for n in _imported_names(node) if _is_gui(n)]
        assert not eager, f"{path.name} imports {eager} at module level"
        lazily += [n for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom))
                   for n in _imported_names(node) if n.startswith("emotrace.gui")]
    assert "emotrace.gui.app" in lazily  # the check looks at the right names: the command does reach the app


def _cycles(graph) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan's algorithm, iterative)."""
    modules = sorted(m for m in graph.modules if m == "emotrace" or m.startswith("emotrace."))
    inside = set(modules)
    edges = {m: sorted(graph.find_modules_directly_imported_by(m) & inside) for m in modules}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []
    for root in modules:
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            node, i = work.pop()
            if i == 0:
                index[node] = low[node] = len(index)
                stack.append(node)
                on_stack.add(node)
            if i < len(edges[node]):
                work.append((node, i + 1))
                nxt = edges[node][i]
                if nxt not in index:
                    work.append((nxt, 0))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            if work:  # back in the caller: pass the lowest index reached up
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1 or node in edges[node]:
                    found.append(sorted(component))
    return found


def test_no_import_cycles_between_emotrace_modules():
    """grimp's graph (import-linter's) counts imports inside functions too: a cycle hidden in a function is
    still a cycle. Imports under TYPE_CHECKING do not run and are left out."""
    import grimp

    graph = grimp.build_graph("emotrace", exclude_type_checking_imports=True, cache_dir=None)
    assert len(graph.modules) > 50  # the installed package's link tree was found
    cycles = _cycles(graph)
    detail = []
    for component in cycles:
        for a in component:
            for b in sorted(graph.find_modules_directly_imported_by(a) & set(component)):
                lines = [d["line_number"] for d in graph.get_import_details(importer=a, imported=b)]
                detail.append(f"{a} -> {b} (line {', '.join(map(str, lines))})")
    assert not cycles, "import cycles:\n" + "\n".join(detail)


def test_the_cycle_finder_finds_cycles():
    class Graph:
        modules = {"emotrace", "emotrace.a", "emotrace.b", "emotrace.c", "emotrace.d"}
        imports = {"emotrace.a": {"emotrace.b"}, "emotrace.b": {"emotrace.c"}, "emotrace.c": {"emotrace.a", "x"},
                   "emotrace.d": {"emotrace.a"}}

        def find_modules_directly_imported_by(self, m):
            return set(self.imports.get(m, ()))

    assert _cycles(Graph()) == [["emotrace.a", "emotrace.b", "emotrace.c"]]


PACKAGE_FOLDERS = ("api", "core", "training", "gui", "cli", "resources")


def _comments(source: str) -> dict[int, str]:
    return {tok.start[0]: tok.string for tok in tokenize.generate_tokens(io.StringIO(source).readline)
            if tok.type == tokenize.COMMENT}


def function_level_imports() -> list[tuple[str, int, str, bool]]:
    """(file, line, statement, says why) for every import inside a function of the package. Consecutive imports
    form one block; a block says why with a `# lazy: ...` comment on the line before it or on its first
    statement's lines."""
    out = []
    for folder in PACKAGE_FOLDERS:
        for path in sorted((ROOT / folder).rglob("*.py")):
            source = path.read_text(encoding="utf-8")
            comments = _comments(source)
            seen = set()
            for func in ast.walk(ast.parse(source)):
                if not isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    continue
                for node in ast.walk(func):
                    for field in ("body", "orelse", "finalbody"):
                        block = getattr(node, field, None)
                        if not isinstance(block, list):
                            continue
                        first = None
                        for stmt in block:
                            if not isinstance(stmt, (ast.Import, ast.ImportFrom)):
                                first = None
                                continue
                            first = first or stmt
                            if stmt.lineno in seen:
                                continue
                            seen.add(stmt.lineno)
                            lines = range(first.lineno - 1, first.end_lineno + 1)
                            why = any("lazy:" in comments.get(n, "") for n in lines)
                            out.append((str(path.relative_to(ROOT)), stmt.lineno, ast.unparse(stmt), why))
    return out


def test_every_function_level_import_says_why():
    """An import inside a function is for an optional or heavy dependency (torch, transformers, pandas, Qt
    multimedia, ...), or keeps `emotrace --help` or the package root light; it says so in a `# lazy:` comment.
    An import that needs no such reason belongs at the top of its module."""
    silent = [f"{f}:{n}: {stmt}" for f, n, stmt, why in function_level_imports() if not why]
    assert not silent, "imports inside functions without a `# lazy: why` comment:\n" + "\n".join(silent)


