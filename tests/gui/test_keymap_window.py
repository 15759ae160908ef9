"""The keymap on the real main window (offscreen): what it binds is the keymap, no more and no less; the Help
sheet shows every entry; keys pressed as a user presses them do what the keymap says."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QAction, QKeySequence, QShortcut
from PySide6.QtWidgets import QApplication

from emotrace.gui.shortcuts import KEYMAP_ID
from emotrace.gui.state import keymap

pytestmark = pytest.mark.usefixtures("qt_settings")

PORTABLE = QKeySequence.SequenceFormat.PortableText


def installed(window) -> set[tuple[str | None, str]]:
    """(keymap action named on it, key) for every QShortcut and QAction with a key under the window."""
    found = set()
    for shortcut in window.findChildren(QShortcut):
        if not shortcut.key().isEmpty():
            found.add((shortcut.property(KEYMAP_ID), shortcut.key().toString(PORTABLE)))
    for action in window.findChildren(QAction):
        for seq in action.shortcuts():
            if not seq.isEmpty():
                found.add((action.property(KEYMAP_ID), seq.toString(PORTABLE)))
    return found


def expected() -> set[tuple[str, str]]:
    return {(b.id, QKeySequence(k).toString(PORTABLE)) for b in keymap.KEYMAP for k in b.keys}


def press(qtbot, window, action_id: str, which: int = 0) -> None:
    """Press the keymap's key for an action on the window, as a keyboard would."""
    combo = QKeySequence(keymap.keys(action_id)[which])[0]
    qtbot.keyClick(window, combo.key(), combo.keyboardModifiers())
    QApplication.processEvents()


def test_the_window_binds_exactly_the_keymap(window):
    bound = installed(window)
    assert {key for _id, key in bound if _id is None} == set(), "a binding made without the keymap"
    assert bound - expected() == set(), "bound, but not in the keymap"
    assert expected() - bound == set(), "in the keymap, but not bound"


def test_the_help_sheet_shows_every_keymap_entry(window, qtbot):
    window.file_view.setFocus()
    press(qtbot, window, "shortcuts")  # F1
    sheet = window.shortcut_sheet
    qtbot.waitUntil(sheet.isVisible)
    shown = {tuple(sheet.table.item(r, c).text() for c in range(sheet.table.columnCount()))
             for r in range(sheet.table.rowCount())}
    for b in keymap.KEYMAP:
        assert (b.group, b.key_text, b.text) in shown, b.id
    for g in keymap.GESTURES:
        assert ("Mouse", g.gesture, g.text) in shown
    assert ("Tracing", "T", keymap.binding("trace").text) in shown  # issue 22: T was missing from the sheet


def test_pressed_keys_do_what_the_keymap_names(window, qtbot):
    w = window
    w.file_view.setFocus()
    w.seek(5.0)
    press(qtbot, w, "next_segment")  # N: the first segment after the playhead (10-20 s)
    assert w.segment_index == 1
    press(qtbot, w, "previous_segment")
    assert w.segment_index == 0
    w.view_state.set_view(0.0, 40.0)
    press(qtbot, w, "zoom_in", which=1)  # "=" zooms in as "+" does
    lo, hi = w.view_state.view
    assert hi - lo == pytest.approx(20.0)
    press(qtbot, w, "whole_file")
    assert w.view_state.view == pytest.approx((0.0, w.view_state.duration))
    focused = w.editor.focused_dim
    press(qtbot, w, "next_dimension")
    assert w.editor.focused_dim == (focused + 1) % len(w.editor.spins)
    press(qtbot, w, "set_value", which=5)  # the key "6"
    assert w.editor.spins[w.editor.focused_dim].value() == 6.0
    press(qtbot, w, "trace")
    assert w.tracing.active and w.tracing.act_trace.isChecked()
    press(qtbot, w, "trace")
    assert not w.tracing.active


def test_a_modifier_key_reaches_its_menu_action(window, qtbot, populated):
    store, _file_id, _mv = populated
    w = window
    w.file_view.setFocus()
    w.select_segment(0)
    seg = int(w.data.seg_ids[0])
    before = [c.values for c in store.labels.current_labels(segment_ids=[seg]) if c.annotator == "tester"]
    press(qtbot, w, "set_value", which=1)  # "2"
    assert w.editor.save()
    assert [c.values[0] for c in store.labels.current_labels(segment_ids=[seg]) if c.annotator == "tester"] == [2.0]
    press(qtbot, w, "undo")  # Ctrl+Z, through the Edit menu's action
    assert [c.values for c in store.labels.current_labels(segment_ids=[seg]) if c.annotator == "tester"] == before
