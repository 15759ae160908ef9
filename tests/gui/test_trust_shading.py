"""Windows outside the model's training domain (issue 26, item 3) are shaded in the A/V/D lanes and counted in
the legend; a blind annotator sees neither."""

from __future__ import annotations

import numpy as np
import pytest

from emotrace.core.store import PredictionRow
from emotrace.core.vocab import DIMENSIONS
from emotrace.core.workflows.annotation_jobs import Sight

pytestmark = pytest.mark.usefixtures("qt_settings")


def _with_trust(store, file_id, mv, outside: set[int]) -> None:
    rows = [PredictionRow(None, "window", float(a), float(a) + 4, (4.0, 4.0, 3.5),
                          trust=2.5 if int(a) in outside else 0.6) for a in range(57)]
    store.predictions.replace_predictions(file_id, mv, rows)


def test_outside_windows_are_shaded_and_counted(window, populated, qtbot):
    store, file_id, mv = populated
    view = window.file_view
    assert all(item.getData()[0] is None or not len(item.getData()[0]) for item in view.trust_shading.items.values())
    assert "outside the training domain" not in view.legend_label.text()
    _with_trust(store, file_id, mv, {10, 11, 12, 40})
    qtbot.waitUntil(lambda: "outside the training domain" in view.legend_label.text())
    assert "4 of 57 windows outside the training domain" in view.legend_label.text()
    for dim in DIMENSIONS:
        x, y = view.trust_shading.items[dim].getData()
        # windows 10-12 (centres 12-14 s) merge into one band over their hops; window 40 (centre 42 s) is another
        assert list(np.unique(x)) == pytest.approx([11.5, 14.5, 41.5, 42.5])
        assert set(y) == {1.0, 7.0}


def test_a_blind_annotator_sees_no_shading(window, populated, qtbot):
    store, file_id, mv = populated
    _with_trust(store, file_id, mv, {5})
    qtbot.waitUntil(lambda: "1 of 57 windows" in window.file_view.legend_label.text())
    # blind, nothing saved yet (the tests used the removed set_reveal/reveal; the one rule is now Sight)
    every = frozenset(int(i) for i in window.data.seg_ids)
    window.file_view.set_sight(Sight(viewer="tester", everywhere=True, hidden=every))
    assert "outside the training domain" not in window.file_view.legend_label.text()
    assert all(len(item.getData()[0] if item.getData()[0] is not None else []) == 0
               for item in window.file_view.trust_shading.items.values())
