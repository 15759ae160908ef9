""""Why this value" (issue 26, item 5): the stored audio-only and text-only predictions of the selected segment
and its acoustics against the file's median; nothing for a blind annotator."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.usefixtures("qt_settings")


def test_why_panel_shows_modalities_and_acoustics(window, qtbot):
    why = window.why
    window.select_segment(1)
    text = why.label.text()
    assert "audio only: A 5.50  V 3.00  D 4.00" in text and "text only: A 4.50  V 5.00  D 4.00" in text
    qtbot.waitUntil(lambda: "acoustics" in why.label.text() and "measuring" not in why.label.text(), timeout=30000)
    assert "the file" in why.label.text()  # no speaker turns here: the file's median
    window.store.raters.set_blind("viewer", True)  # a blind annotator who saved nothing yet looks (the one rule)
    window.view_state.set_viewer("viewer")
    window.select_segment(0)
    assert why.label.text().startswith("Blind") and "audio only" not in why.label.text()
