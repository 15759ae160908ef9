"""What a new user saw at 1024x700 (a real window under Xvfb, the packaged demo): the right column's three docks
(Transcript, Label, Why this value) asked for 785 pixels of window height, so a 700-pixel screen could not hold the
window (a window manager keeps it taller than the screen; without one, Xvfb, Qt laid the Why dock over the label
editor's history). The window must fit 1024x700, no dock may lie over another, and each dock's contents get the
height they need (the label editor and the Why panel scroll within their docks when the window is low)."""

from __future__ import annotations

from PySide6.QtCore import QRect
from PySide6.QtWidgets import QApplication


def _settle(qtbot, ms: int = 300) -> None:
    QApplication.processEvents()
    qtbot.wait(ms)


def _shown_docks(w):
    return {name: d for name, d in w.docks.items() if d.isVisible() and not d.visibleRegion().isEmpty()}


def test_at_1024x700_no_dock_lies_over_another_and_each_holds_its_contents(window, qtbot):
    w = window
    w.select_segment(0)
    w.resize(1600, 1000)  # as a user does: full screen first, then a small window
    _settle(qtbot)
    w.resize(1024, 700)
    _settle(qtbot)
    assert w.minimumSizeHint().height() <= 700 and w.height() == 700, (w.minimumSizeHint().height(), w.height())
    docks = _shown_docks(w)
    assert {"Label", "Why this value"} <= set(docks), sorted(docks)
    rects = {name: QRect(d.mapTo(w, d.rect().topLeft()), d.size()) for name, d in docks.items()}
    for a in rects:
        for b in rects:
            if a < b:
                assert not rects[a].intersects(rects[b]), (a, rects[a], b, rects[b])
    for name, d in docks.items():
        need = d.widget().minimumHeight() or d.widget().minimumSizeHint().height()  # Qt's rule: a set least wins
        assert d.widget().height() >= need, (name, d.widget().height(), need)
    for name in ("Label", "Why this value"):  # in their scroll areas: as wide as they need (no side scroll bar)
        inner = docks[name].widget().widget()
        assert inner.width() >= inner.minimumSizeHint().width(), (name, inner.width(), inner.minimumSizeHint())


def test_at_1024x700_the_label_editor_shows_its_buttons_without_scrolling(window, qtbot):
    """At 1024x700 the idle Jobs strip kept 150 pixels of empty list while the editor, squeezed, hid its Save and
    Accept buttons below a scroll bar: a low window gives the editor its height first."""
    w = window
    w.select_segment(0)
    w.resize(1600, 1000)
    _settle(qtbot)
    w.resize(1024, 700)
    _settle(qtbot)
    area = w.docks["Label"].widget()
    for button in (w.editor.save_button, w.editor.accept_button):
        bottom = button.mapTo(area.viewport(), button.rect().bottomLeft()).y()
        assert 0 <= bottom <= area.viewport().height(), (button.text(), bottom, area.viewport().height())
    assert area.verticalScrollBar().value() == 0
