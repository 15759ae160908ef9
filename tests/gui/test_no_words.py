"""Issue 24, item 7 in the app: a segment made with C gets the words inside it, and a segment of speech the ASR
left without words says so in the editor."""

from __future__ import annotations

from PySide6.QtCore import Qt


def test_a_segment_made_with_c_gets_the_words_inside_it(window, populated, qtbot):
    store, file_id, _mv = populated
    w = window
    w.file_view._drag_select(22.0, 27.5, True)  # what a drag on the waveform ends with
    w.file_view.setFocus()
    qtbot.keyClick(w.file_view, Qt.Key.Key_C)
    new = [s for s in store.segments.segments(file_id) if s.start == 22.0]
    assert len(new) == 1 and new[0].text == "w11 w12 w13"  # the words at 22.1, 24.1, 26.1 s
    assert w.editor.segment_id == new[0].id and w.editor.text.text() == "w11 w12 w13"


def test_a_wordless_asr_segment_reads_no_words(window, populated, qtbot):
    from emotrace.core.store import SegmentSpec
    from emotrace.core.vocab import SegmentOrigin

    store, file_id, _mv = populated
    (sid,) = store.segments.add_segments(file_id, [SegmentSpec(45.0, 48.0, SegmentOrigin.ASR, "")])
    window.reload_file()
    window.go_to(file_id, sid)
    assert "no words" in window.editor.text.text()
