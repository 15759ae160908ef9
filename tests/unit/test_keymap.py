"""The keymap has one home, gui/state/keymap.py (issue 22): no key is spelled in the widget code, a key belongs
to one action, and the README's keys table is the generator's output. Qt-free; the app side is in
tests/test_gui_keymap.py."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from emotrace.gui.state import keymap

ROOT = Path(__file__).resolve().parents[2]


def test_the_readme_keys_table_is_generated_from_the_keymap():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert keymap.readme_block(text) == keymap.markdown(), (
        "README.md's keys table is stale: run `python -m emotrace.gui.state.keymap --write-readme README.md`")


def test_write_readme_replaces_only_the_block(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(f"before\n{keymap.START}\n| old | table |\n{keymap.END}\nafter\n", encoding="utf-8")
    assert keymap.main(["--write-readme", str(readme)]) == 0
    text = readme.read_text(encoding="utf-8")
    assert text.startswith("before\n") and text.endswith(f"{keymap.END}\nafter\n") and "| old |" not in text
    assert keymap.readme_block(text) == keymap.markdown()


def test_a_key_triggers_one_action_only():
    """Qt fires neither of two shortcuts that share a key ("ambiguous"), so a key may appear once."""
    seen: dict[str, str] = {}
    for b in keymap.KEYMAP:
        assert b.keys and b.group in keymap.GROUPS, b
        for key in b.keys:
            assert key.lower() not in seen, f"{key} is bound to {seen[key.lower()]} and to {b.id}"
            seen[key.lower()] = b.id


def test_descriptions_name_keys_through_the_keymap():
    for b in keymap.KEYMAP:
        assert "{" not in b.text and b.text.strip(), b.id
    for g in keymap.GESTURES:
        assert "{" not in g.text, g.gesture
    loop = keymap.binding("loop").text
    assert keymap.key_text("play_pause") in loop and keymap.key_text("play_segment") in loop


def test_no_widget_spells_a_key():
    """Bindings are made by emotrace.gui.shortcuts from the keymap only: no QKeySequence, QShortcut or
    setShortcut(s) with a key of its own anywhere else in gui/, and no Qt.Key constant used for a binding."""
    offenders = []
    for path in sorted((ROOT / "gui").rglob("*.py")):
        if path.name == "shortcuts.py" and path.parent.name == "gui":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
                if name in {"QKeySequence", "QShortcut", "setShortcut", "setShortcuts"}:
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} {name}")
                if any(kw.arg == "shortcut" for kw in node.keywords):
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} shortcut=")
            if isinstance(node, ast.Attribute) and node.attr.startswith("Key_"):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.attr}")
    assert not offenders, offenders


def test_messages_do_not_spell_keys():
    """Tooltips, buttons and status lines name keys through keymap.key_text, so a changed key changes them too."""
    spelled = re.compile(r"""["'][^"'\n]*\((?:Space|Enter|[A-Z]|F\d|Ctrl\+[^)]*)\)[^"'\n]*["']|"""
                         r"""\b(?:Ctrl\+\w|Ctrl\+Shift\+\w)[^"'\n]*\b(?:undoes|redoes)""")
    offenders = []
    for path in sorted((ROOT / "gui").rglob("*.py")):
        if path.name == "keymap.py":
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if spelled.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    assert not offenders, offenders
