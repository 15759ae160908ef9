"""Switching files shows the new file's waveform (issue 24, item 5): opening a file whose first view range equals
the previous file's (0-30 s) left the detail lane drawing the previous file's audio, because pyqtgraph emits no
range change for an unchanged range and the detail curve was only redrawn on one."""

from __future__ import annotations

import numpy as np
import soundfile as sf
from PySide6.QtCore import Qt


def _click_file(w, qtbot, name: str) -> None:
    table = w.browser.table
    row = next(r for r in range(w.browser.proxy.rowCount())
               if w.browser.proxy.index(r, 0).data() == name)
    rect = table.visualRect(w.browser.proxy.index(row, 0))
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def test_the_detail_lane_shows_the_new_file_after_a_switch(window, qtbot, populated, tmp_path):
    from emotrace.core.workflows.importing import import_folder

    store, file_id, _mv = populated
    w = window
    quiet = np.zeros(16000 * 90, np.float32)  # 90 s: its first 30 s are silence, talk.wav's are a loud tone
    quiet[16000 * 60:] = 0.5 * np.sin(np.arange(16000 * 30) / 16000 * 2 * np.pi * 300)
    sf.write(str(tmp_path / "c" / "zz_quiet.wav"), quiet, 16000)
    import_folder(store, tmp_path / "c", "c")
    w.browser.reload_files()
    _click_file(w, qtbot, "talk.wav")
    qtbot.waitUntil(lambda: w.data is not None and w.data.path.endswith("talk.wav"))
    assert np.abs(w.file_view.detail_curve.getData()[1]).max() > 0.1  # the tone
    _click_file(w, qtbot, "zz_quiet.wav")
    qtbot.waitUntil(lambda: w.data.path.endswith("zz_quiet.wav"))
    assert w.file_view.view_range() == (0.0, 30.0)
    x, y = w.file_view.detail_curve.getData()
    assert x.max() <= 31.0 and np.abs(y).max() < 1e-3  # silence, not talk.wav's tone
    _click_file(w, qtbot, "talk.wav")  # and back
    qtbot.waitUntil(lambda: w.data.path.endswith("talk.wav"))
    assert np.abs(w.file_view.detail_curve.getData()[1]).max() > 0.1
