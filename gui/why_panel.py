""""Why this value" (issue 26, item 5): for the selected segment, what the model says from the audio alone and
from the words alone, and which acoustic parameters set it apart from the same speaker's other segments.

The predictions are the stored ones (no model runs here). The eGeMAPS functionals of the open file's segments
are computed once per file off the GUI thread (a daemon thread; openSMILE, cached on disk with the baseline's
`egemaps-v02` feature cache) and described by `gui/state/why.py`. A blind annotator sees nothing here until
their own label is saved, as in the lanes.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from emotrace.gui.state.view_state import ViewState
from emotrace.gui.state.viewdata import FileData
from emotrace.gui.state.why import differences, modality_line


class WhyPanel(QWidget):
    computed = Signal(int, object)  # file id, (names, {segment id: [88]}) or an error message

    def __init__(self, session: ViewState, data: Callable[[], FileData | None],
                 shows: Callable[[int], bool]) -> None:
        super().__init__()
        self._session, self._data, self._shows = session, data, shows  # shows: the one blind rule (Sight.shows)
        self.label = QLabel("Select a segment.")
        self.label.setWordWrap(True)
        self.label.setTextFormat(Qt.TextFormat.RichText)
        self.label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.label.setToolTip("The stored audio-only and text-only predictions, and the eGeMAPS parameters that "
                              "differ most from this speaker's median in this file")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.label)
        self._features: dict[int, tuple[list[str], dict[int, np.ndarray]] | str] = {}
        self._pending: set[int] = set()
        self._index: int | None = None
        self.computed.connect(self._arrived)
        session.selection_changed.connect(self.show_segment)

    def show_segment(self, index: int | None) -> None:
        self._index = index
        data = self._data()
        if data is None or index is None or not 0 <= index < len(data.seg_ids):
            self.label.setText("Select a segment.")
            return
        sid = int(data.seg_ids[index])
        if not self._shows(sid):
            self.label.setText("Blind: save your own label to see why the model says what it says.")
            return
        lines = [f"<b>{data.segment_name(index)}</b>"]
        models = self._session.shown_models
        pred = data.segment_predictions.get(models[0], {}).get(sid) if models else None
        lines += modality_line(*pred) if pred is not None else ["no prediction for this segment"]
        feats = self._features.get(data.file_id)
        if isinstance(feats, str):
            lines.append(f"acoustics unavailable: {feats}")
        elif feats is None:
            lines.append("measuring pitch and loudness...")
            self._compute(data)
        else:
            lines += self._acoustics(data, index, *feats)
        self.label.setText("<br>".join(lines))

    def _acoustics(self, data: FileData, index: int, names: list[str], rows: dict[int, np.ndarray]) -> list[str]:
        sid = int(data.seg_ids[index])
        if sid not in rows:
            return []
        start, end = data.seg_bounds[index]
        turn = data.turn_at(float(start + end) / 2)
        who = data.turns[turn].speaker if turn is not None else None
        same = [k for k in data.live_indices() if int(data.seg_ids[k]) in rows and (who is None or (
            (t := data.turn_at(float(data.seg_bounds[k].mean()))) is not None and data.turns[t].speaker == who))]
        speaker = np.stack([rows[int(data.seg_ids[k])] for k in same]) if same else np.zeros((0, len(names)))
        phrases = differences(names, rows[sid], speaker, who or "the file")
        if not phrases:
            return [f"acoustics: nothing stands out from {who or 'the file'}'s median ({len(same)} segments)"]
        return ["acoustics: " + "; ".join(phrases)]

    def _compute(self, data: FileData) -> None:
        if data.file_id in self._pending:
            return
        self._pending.add(data.file_id)
        live = data.live_indices()
        spans = [(int(data.seg_ids[k]), float(data.seg_bounds[k][0]), float(data.seg_bounds[k][1])) for k in live]
        threading.Thread(target=self._run, args=(data.file_id, data.path, data.fingerprint, spans), daemon=True,
                         name=f"why-{data.file_id}").start()

    def _run(self, file_id: int, path: str, fingerprint: str, spans: list[tuple[int, float, float]]) -> None:
        try:
            # lazy: openSMILE and the feature cache load only when the panel first explains a segment
            from emotrace.core.audio.acoustics import egemaps_names
            from emotrace.training.baseline import egemaps_features
            from emotrace.training.data import Example

            examples = [Example(sid, file_id, path, fingerprint, a, b, "", None, "", (4.0, 4.0, 4.0))
                        for sid, a, b in spans]
            feats = egemaps_features(examples)
            result = (egemaps_names(), {sid: feats[i] for i, (sid, _a, _b) in enumerate(spans)})
        except Exception as exc:  # noqa: BLE001 - shown in the panel; the app goes on
            result = str(exc)
        try:
            self.computed.emit(file_id, result)
        except RuntimeError:  # the panel was closed meanwhile
            pass

    def _arrived(self, file_id: int, result) -> None:
        self._pending.discard(file_id)
        self._features[file_id] = result
        data = self._data()
        if data is not None and data.file_id == file_id:
            self.show_segment(self._index)
