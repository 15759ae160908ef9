"""The acoustic lanes (issue 26, item 2): off until asked for, then computed off the GUI thread and cached,
drawn on the lanes' time axis from the level of detail that matches the view, following the playhead."""

from __future__ import annotations

import numpy as np
import pytest

from emotrace.core.audio.acoustic_tracks import N_MELS, cache_folder

pytestmark = pytest.mark.usefixtures("qt_settings")


def test_lanes_are_off_until_asked_then_built_once_and_linked_to_the_time(window, qtbot):
    lanes = window.file_view.acoustic
    fingerprint = window.data.fingerprint
    assert not any(p.isVisible() for p in lanes.plots.values())
    assert not cache_folder(fingerprint).exists() and lanes.tracks is None  # nothing computed for a hidden lane
    avd_height = window.file_view.lanes["arousal"].height()

    spectrogram, pitch, loudness = lanes.actions
    with qtbot.waitSignal(lanes.ready, timeout=30000):
        spectrogram.trigger()  # the View menu's "Spectrogram lane"
    pitch.trigger()
    loudness.trigger()
    assert all(p.isVisible() for p in lanes.plots.values())
    assert cache_folder(fingerprint).is_dir()
    qtbot.waitUntil(lambda: window.file_view.lanes["arousal"].height() < avd_height)  # the lanes made room

    window.resize(1600, 1000)  # level 0 needs at least 500 px for 1,000 frames (0.5-2 frames per pixel)
    qtbot.waitUntil(lambda: lanes.plots["spectrogram"].getViewBox().width() >= 520)
    window.view_state.set_view(10.0, 20.0)
    qtbot.wait(20)
    rect = lanes.image.mapRectToParent(lanes.image.boundingRect())
    assert rect.left() == pytest.approx(10.0, abs=0.05) and rect.right() == pytest.approx(20.0, abs=0.05)
    assert lanes.image.image.shape == (1002, N_MELS)  # 10 ms frames at this zoom (level 0)
    # time runs along x and the mel bands up y (the last frame lands at the view's right edge, band 0 at the
    # bottom), and the tone's energy sits in a low band
    from PySide6.QtCore import QPointF

    last = lanes.image.mapToParent(QPointF(len(lanes.image.image), 0.0))
    assert last.x() == pytest.approx(20.0, abs=0.05) and last.y() == pytest.approx(0.0)
    assert int(np.argmax(lanes.image.image.mean(0))) < 12  # 220 Hz: mel band ~7 of 64 up to 8 kHz
    t, f0 = lanes.curves["f0_st"].getData()
    assert t[0] < 10.05 and t[-1] > 19.95
    # the fixture's audio is a 220 Hz tone: 36 semitones above 27.5 Hz
    assert np.nanmedian(f0) == pytest.approx(12 * np.log2(220 / 27.5), abs=0.5)
    assert lanes.plots["spectrogram"].viewRange()[0] == pytest.approx(window.file_view.view_range(), abs=1e-6)

    window.view_state.set_view(0.0, 60.0)  # the whole file: a coarser level, never more frames than pixels x 2
    qtbot.wait(20)
    width = lanes.plots["spectrogram"].getViewBox().width()
    # 0.5-2 frames per pixel where a level allows (this 60 s file's coarsest level has 1,501 frames)
    assert len(lanes.image.image) <= max(2 * width + 4, len(lanes.tracks.mel[-1]) + 2) < 6000
    window.view_state.set_playhead(12.5)
    qtbot.wait(20)
    assert all(line.value() == pytest.approx(12.5) for line in lanes.playheads)

    pitch.trigger()  # off again: remembered, the other lanes stay
    assert not lanes.plots["f0_st"].isVisible() and lanes.plots["spectrogram"].isVisible()
    from PySide6.QtCore import QSettings

    assert QSettings().value("lanes/f0_st", type=bool) is False
    assert QSettings().value("lanes/spectrogram", type=bool) is True
