""""Why this value" (issue 26, item 5): the stored audio-only and text-only predictions of the selected segment
and its acoustics against the file's median; nothing for a blind annotator."""

from __future__ import annotations

import pytest

from emotrace.core.workflows.annotation_jobs import Sight

pytestmark = pytest.mark.usefixtures("qt_settings")


def test_why_panel_shows_modalities_and_acoustics(window, qtbot):
    why = window.why
    window.select_segment(1)
    text = why.label.text()
    assert "audio only: A 5.50  V 3.00  D 4.00" in text and "text only: A 4.50  V 5.00  D 4.00" in text
    qtbot.waitUntil(lambda: "acoustics" in why.label.text() and "measuring" not in why.label.text(), timeout=30000)
    assert "the file" in why.label.text()  # no speaker turns here: the file's median
    # blind, nothing saved yet (the tests used the removed set_reveal/reveal; the one rule is now Sight)
    every = frozenset(int(i) for i in window.data.seg_ids)
    window.file_view.set_sight(Sight(viewer="tester", everywhere=True, hidden=every))
    window.select_segment(0)
    assert why.label.text().startswith("Blind") and "audio only" not in why.label.text()
