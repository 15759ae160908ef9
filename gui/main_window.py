"""The main window: docks around the file view; toolbar jobs run off the GUI thread; layout remembered."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QAction, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDockWidget,
    QFileDialog,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMessageBox,
    QPlainTextEdit,
    QSpinBox,
    QTextEdit,
)

from core.envelope import envelope
from core.store import Store
from core.viewdata import FileData, load_file_data, load_labels
from gui.bridge import StoreBridge
from gui.corpus_browser import CorpusBrowser
from gui.file_view import DIM_COLOURS, DIMS, FileView
from gui.jobs import JobsPanel
from gui.label_editor import LabelEditor
from gui.models_panel import ModelsPanel
from gui.player import Player
from gui.retrain import RetrainDialog
from gui.review_panel import ReviewPanel
from gui.settings import AppSettings, SettingsDialog
from gui.transcript import TranscriptView

TEXT_WIDGETS = (QLineEdit, QTextEdit, QPlainTextEdit, QSpinBox, QComboBox)


class MainWindow(QMainWindow):
    def __init__(self, store: Store, settings: AppSettings | None = None) -> None:
        super().__init__()
        self.store = store
        self.settings = settings or AppSettings.load()
        self.setWindowTitle(f"EmoTrace - {store.url}")
        self.resize(1400, 900)
        self.bridge = StoreBridge(store, self)
        self.data: FileData | None = None
        self.segment_index: int | None = None
        self.shown_models: list[int] = []

        self.file_view = FileView()
        self.setCentralWidget(self.file_view)
        self.browser = CorpusBrowser(store)
        self.transcript = TranscriptView()
        self.jobs = JobsPanel()
        self.editor = LabelEditor(store, self.settings.annotator)
        self.review = ReviewPanel(store)
        self.models_panel = ModelsPanel(store)
        from gui.annotator_lanes import AnnotatorLanes  # issue 14: each annotator's labels as a lane

        self.annotator_lanes = AnnotatorLanes(store, self.settings.annotator)
        self.player = Player(self)
        self.docks = {}
        for name, widget, area in (
            ("Corpus", self.browser, Qt.DockWidgetArea.LeftDockWidgetArea),
            ("Transcript", self.transcript, Qt.DockWidgetArea.RightDockWidgetArea),
            ("Label", self.editor, Qt.DockWidgetArea.RightDockWidgetArea),
            ("Review queue", self.review, Qt.DockWidgetArea.LeftDockWidgetArea),
            ("Models", self.models_panel, Qt.DockWidgetArea.LeftDockWidgetArea),
            ("Jobs", self.jobs, Qt.DockWidgetArea.BottomDockWidgetArea),
            ("Annotators", self.annotator_lanes, Qt.DockWidgetArea.BottomDockWidgetArea),
        ):
            dock = QDockWidget(name, self)
            dock.setObjectName(f"dock-{name}")
            dock.setWidget(widget)
            self.addDockWidget(area, dock)
            self.docks[name] = dock
        self.tabifyDockWidget(self.docks["Corpus"], self.docks["Review queue"])
        self.tabifyDockWidget(self.docks["Corpus"], self.docks["Models"])
        self.docks["Corpus"].raise_()
        self._build_actions()
        self._build_shortcuts()
        self._build_drag_handles()
        self._connect()
        self.status = QLabel("")
        self.statusBar().addPermanentWidget(self.status)
        self.refresh_models()
        self._restore_layout()
        if self.player.silent:
            self.statusBar().showMessage("No audio output device: playback runs silently (playhead only).", 8000)

    # -- construction -----------------------------------------------------------------------------
    def _build_actions(self) -> None:
        tb = self.addToolBar("Main")
        tb.setObjectName("toolbar-main")
        menu = self.menuBar().addMenu("&File")
        jobs_menu = self.menuBar().addMenu("&Jobs")
        view_menu = self.menuBar().addMenu("&View")
        self.act_import = QAction("Import folder...", self, triggered=self.import_folder)
        self.act_transcribe = QAction("Transcribe", self, triggered=self.transcribe)
        self.act_analyze = QAction("Analyze", self, triggered=self.analyze)
        self.act_retrain = QAction("Retrain", self, triggered=self.retrain)
        self.act_settings = QAction("Settings...", self, triggered=self.edit_settings)
        self.act_agreement = QAction("Annotator agreement...", self, triggered=self.show_agreement)
        self.act_annotation_jobs = QAction("Annotation jobs...", self, triggered=self.show_annotation_jobs)
        self.act_undo = self.editor.undo_stack.createUndoAction(self, "Undo label")
        self.act_undo.setShortcut(QKeySequence.StandardKey.Undo)
        self.act_redo = self.editor.undo_stack.createRedoAction(self, "Redo label")
        self.act_redo.setShortcut(QKeySequence.StandardKey.Redo)
        self.act_export = QAction("Export...", self, triggered=self.show_export)
        menu.addActions([self.act_import, self.act_export, self.act_settings])
        menu.addSeparator()
        menu.addAction(QAction("Quit", self, triggered=self.close, shortcut=QKeySequence.StandardKey.Quit))
        jobs_menu.addActions([self.act_transcribe, self.act_analyze, self.act_retrain, self.act_agreement,
                              self.act_annotation_jobs])
        edit_menu = self.menuBar().addMenu("&Edit")
        edit_menu.addActions([self.act_undo, self.act_redo])
        for dock in self.docks.values():
            view_menu.addAction(dock.toggleViewAction())
        tb.addActions([self.act_import, self.act_transcribe, self.act_analyze, self.act_retrain])
        tb.addSeparator()
        tb.addWidget(QLabel(" Show model: "))
        self.model_box = QComboBox()
        self.model_box.setMinimumWidth(160)
        tb.addWidget(self.model_box)
        tb.addWidget(QLabel(" Compare with: "))
        self.compare_box = QComboBox()
        self.compare_box.setMinimumWidth(160)
        tb.addWidget(self.compare_box)
        tb.addSeparator()
        tb.addAction(self.act_settings)

    def _build_shortcuts(self) -> None:
        def key(seq, fn):
            sc = QShortcut(QKeySequence(seq), self)
            sc.setContext(Qt.ShortcutContext.WindowShortcut)
            sc.activated.connect(lambda: None if self._typing() else fn())
            return sc

        self.shortcuts = [
            key(Qt.Key.Key_Space, self.player.toggle),
            key("N", self.next_segment), key(Qt.Key.Key_Down, self.next_segment),
            key("P", self.previous_segment), key(Qt.Key.Key_Up, self.previous_segment),
            key("S", self.play_segment),
            key("+", lambda: self.file_view.zoom(0.5, self.player.position())),
            key("=", lambda: self.file_view.zoom(0.5, self.player.position())),
            key("-", lambda: self.file_view.zoom(2.0, self.player.position())),
            key(Qt.Key.Key_Home, lambda: self.seek(0.0)),
            key(Qt.Key.Key_End, lambda: self.seek(self.data.duration if self.data else 0.0)),
            key("A", self.editor.accept_prediction),
            key("R", self.review.next),
            key("[", lambda: self.editor.cycle_focus(-1)), key("]", lambda: self.editor.cycle_focus(1)),
            key(Qt.Key.Key_Return, self.editor.save_and_next), key(Qt.Key.Key_Enter, self.editor.save_and_next),
        ]
        for digit in range(1, 8):
            self.shortcuts.append(key(str(digit), lambda d=digit: self.editor.set_focused_value(float(d))))

    def _typing(self) -> bool:
        """Single-key shortcuts stand aside while the user types in a text field."""
        w = self.focusWidget()
        return isinstance(w, (QLineEdit, QTextEdit, QPlainTextEdit)) and not isinstance(w, TranscriptView)

    def _build_drag_handles(self) -> None:
        """Dragging the selected segment's bar: one horizontal handle per dimension, saved on release."""
        self.handles = []
        for d_i, dim in enumerate(DIMS):
            line = pg.InfiniteLine(4.0, angle=0, movable=True, bounds=(1, 7),
                                   pen=pg.mkPen(DIM_COLOURS[dim], width=3, style=Qt.PenStyle.DashLine),
                                   label=dim[0].upper(), labelOpts={"position": 0.02, "color": DIM_COLOURS[dim]})
            line.setVisible(False)
            line.sigPositionChangeFinished.connect(lambda ln, i=d_i: self._handle_dragged(i, ln.value()))
            self.file_view.traj.addItem(line)
            self.handles.append(line)

    def _handle_dragged(self, dim: int, value: float) -> None:
        self.editor.spins[dim].setValue(round(value * 4) / 4)
        self.editor.save()

    def _connect(self) -> None:
        self.browser.file_selected.connect(self.open_file)
        self.browser.corpus_changed.connect(lambda _c: self.refresh_review())
        self.file_view.seek_requested.connect(self.seek)
        self.file_view.segment_clicked.connect(self.select_segment)
        self.transcript.seek_requested.connect(self.seek)
        self.player.position_changed.connect(self._on_position)
        self.player.message.connect(lambda m: self.statusBar().showMessage(m, 8000))
        self.model_box.currentIndexChanged.connect(self._models_chosen)
        self.compare_box.currentIndexChanged.connect(self._models_chosen)
        self.jobs.job_failed.connect(lambda title, msg: QMessageBox.warning(self, f"{title} failed", msg))
        self.editor.saved.connect(self._label_saved)
        self.editor.save_failed.connect(lambda msg: QMessageBox.critical(self, "Label not saved", msg))
        self.editor.next_requested.connect(self.next_segment)
        self.review.item_chosen.connect(self.go_to)
        self.models_panel.activated.connect(lambda mv: self._model_activated(mv, reanalyze=False))
        self.bridge.changed.connect(self._store_changed)

    # -- layout persistence -----------------------------------------------------------------------
    def _restore_layout(self) -> None:
        qs = QSettings()
        geometry, state = qs.value("window/geometry"), qs.value("window/state")
        if geometry is not None:
            self.restoreGeometry(geometry)
        if state is not None:
            self.restoreState(state)

    def closeEvent(self, event) -> None:
        qs = QSettings()
        qs.setValue("window/geometry", self.saveGeometry())
        qs.setValue("window/state", self.saveState())
        qs.sync()
        self.player.pause()
        self.jobs.cancel_all()
        self.bridge.close()
        super().closeEvent(event)

    # -- models ---------------------------------------------------------------------------------
    def refresh_models(self) -> None:
        versions = self.store.model_versions()
        active = next((mv.id for mv in versions if mv.active), None)
        for box, first in ((self.model_box, None), (self.compare_box, "(none)")):
            current = box.currentData()
            box.blockSignals(True)
            box.clear()
            if first:
                box.addItem(first, None)
            for mv in reversed(versions):
                box.addItem(f"v{mv.id} {mv.name}{' (active)' if mv.active else ''}", mv.id)
            want = current if box is self.compare_box else (current if current is not None else active)
            index = box.findData(want)
            box.setCurrentIndex(max(0, index))
            box.blockSignals(False)
        self.models_panel.reload()
        self._models_chosen()

    def _models_chosen(self) -> None:
        shown = [self.model_box.currentData(), self.compare_box.currentData()]
        self.shown_models = [m for i, m in enumerate(shown) if m is not None and m not in shown[:i]]
        self.browser.model_version_id = self.shown_models[0] if self.shown_models else None
        if self.data is not None:
            self.reload_file()
        self.refresh_review()

    def _model_activated(self, model_version_id: int, reanalyze: bool) -> None:
        self.model_box.blockSignals(True)
        self.model_box.setCurrentIndex(-1)
        self.model_box.blockSignals(False)
        self.refresh_models()
        self.model_box.setCurrentIndex(max(0, self.model_box.findData(model_version_id)))
        if reanalyze:
            self.analyze(model_version_id)

    def refresh_review(self) -> None:
        self.review.reload(self.browser.corpus_id(), self.shown_models[0] if self.shown_models else None)

    # -- file and segment -------------------------------------------------------------------------
    def open_file(self, file_id: int) -> None:
        f = self.store.file(file_id)
        if f.status != "ok":
            self.statusBar().showMessage(f"{f.path} failed to import: {f.error}", 10000)
            return
        self.data = load_file_data(self.store, file_id, self.shown_models)
        env = envelope(f.path, f.fingerprint)
        self.file_view.show_file(self.data, env, self.shown_models)
        self.transcript.show_file(self.data)
        self.annotator_lanes.show_file(file_id, self.shown_models[0] if self.shown_models else None)
        self.player.load(f.path, self.data.duration)
        self.segment_index = None
        self.select_segment(0 if len(self.data.seg_ids) else None)
        self.status.setText(f"{f.path.rsplit('/', 1)[-1]}: {self.data.duration:.1f} s, "
                            f"{len(self.data.seg_ids)} segments, {len(self.data.word_texts)} words")

    def reload_file(self) -> None:
        """Re-read the current file's labels and predictions (after a save, an analysis, a model switch)."""
        if self.data is None:
            return
        keep = self.segment_index
        view = self.file_view.view_range()
        self.data = load_file_data(self.store, self.data.file_id, self.shown_models)
        self.file_view.data = self.data
        self.file_view.set_trajectories(self.shown_models)
        self.file_view.set_labels()
        self.file_view.set_view(*view)
        if keep is not None and keep < len(self.data.seg_ids):
            self.select_segment(keep, move_view=False)

    def select_segment(self, index: int | None, move_view: bool = True) -> None:
        data = self.data
        if data is None or index is None or not len(data.seg_ids):
            self.segment_index = None
            self.editor.show_segment(None)
            self.file_view.select_segment(None)
            for h in self.handles:
                h.setVisible(False)
            return
        index = max(0, min(index, len(data.seg_ids) - 1))
        self.segment_index = index
        sid = int(data.seg_ids[index])
        start, end = data.seg_bounds[index]
        pred = None
        if self.shown_models and sid in data.segment_predictions.get(self.shown_models[0], {}):
            pred = tuple(data.segment_predictions[self.shown_models[0]][sid][0])
        text = data.seg_texts[index]
        self.editor.show_segment(sid, f"Segment {index + 1}/{len(data.seg_ids)}  {start:.2f}-{end:.2f} s\n{text}",
                                 pred)
        if move_view:
            self.file_view.select_segment(index)
        else:
            self.file_view.selection.setRegion((start, end))
            self.file_view.selection.setVisible(True)
        for h, spin in zip(self.handles, self.editor.spins):
            h.blockSignals(True)
            h.setValue(spin.value())
            h.setVisible(True)
            h.blockSignals(False)

    def next_segment(self) -> None:
        if self.data is not None and len(self.data.seg_ids):
            self.select_segment(0 if self.segment_index is None else self.segment_index + 1)
            self.seek(float(self.data.seg_bounds[self.segment_index, 0]))

    def previous_segment(self) -> None:
        if self.data is not None and len(self.data.seg_ids):
            self.select_segment(0 if self.segment_index is None else self.segment_index - 1)
            self.seek(float(self.data.seg_bounds[self.segment_index, 0]))

    def play_segment(self) -> None:
        if self.data is not None and self.segment_index is not None:
            start, end = self.data.seg_bounds[self.segment_index]
            self.player.play(float(start), float(end))

    def go_to(self, file_id: int, segment_id: int) -> None:
        if self.data is None or self.data.file_id != file_id:
            if not self.browser.select_file(file_id):
                self.open_file(file_id)
        if self.data is not None:
            hits = [i for i, s in enumerate(self.data.seg_ids) if int(s) == segment_id]
            if hits:
                self.select_segment(hits[0])
                self.seek(float(self.data.seg_bounds[hits[0], 0]))

    def seek(self, seconds: float) -> None:
        self.player.seek(seconds)

    def _on_position(self, seconds: float) -> None:
        self.file_view.set_playhead(seconds)
        self.transcript.follow(seconds)

    def _label_saved(self, _segment_id: int) -> None:
        """A save changes labels only: re-read those and redraw the bars, not the whole file."""
        if self.data is None:
            return
        self.data.labels = load_labels(self.store, self.data.file_id)
        self.file_view.set_labels()

    def _store_changed(self, what: str, info: dict) -> None:
        if what in ("corpus_changed", "corpus_added"):
            self.browser.reload_corpora()
        elif what in ("model_registered", "model_activated"):
            self.refresh_models()

    # -- jobs -----------------------------------------------------------------------------------
    def _corpus_or_warn(self) -> str | None:
        name = self.browser.corpus_name()
        if not name:
            QMessageBox.information(self, "EmoTrace", "Import a folder first: there is no corpus yet.")
        return name

    def import_folder(self, folder: str | None = None, corpus: str | None = None) -> None:
        folder = folder or QFileDialog.getExistingDirectory(self, "Import a folder of audio")
        if not folder:
            return
        if corpus is None:
            corpus, ok = QInputDialog.getText(self, "Corpus", "Corpus name:", text=folder.rstrip("/").rsplit("/", 1)[-1])
            if not ok or not corpus:
                return
        from core.importer import import_folder

        def done(report):
            self.browser.reload_corpora(select=corpus)
            if report.problems:
                QMessageBox.warning(self, "Import finished with problems", report.summary())
            self.statusBar().showMessage(report.summary().splitlines()[0], 10000)

        self.jobs.start(f"Import {corpus}",
                        lambda p, c: import_folder(self.store, folder, corpus, progress=p, cancel=c), done)

    def transcribe(self) -> None:
        corpus = self._corpus_or_warn()
        if not corpus:
            return
        model, device = self.settings.asr_model, self.settings.device

        def work(progress, cancel):
            from core.asr import Transcriber, transcribe_corpus

            progress(0, 1, f"loading {model}")
            return transcribe_corpus(self.store, corpus, Transcriber(model, device=device), progress=progress,
                                     cancel=cancel)

        self.jobs.start(f"Transcribe {corpus}", work, lambda r: self._job_done(r))

    def analyze(self, model_version_id: int | None = None) -> None:
        corpus = self._corpus_or_warn()
        if not corpus:
            return
        model = model_version_id or self.model_box.currentData()
        device = self.settings.device

        def work(progress, cancel):
            from core.analysis import analyze_corpus

            progress(0, 1, "loading the model")
            return analyze_corpus(self.store, corpus, model=model, device=device, progress=progress, cancel=cancel)

        self.jobs.start(f"Analyze {corpus}", work, lambda r: self._job_done(r))

    def _job_done(self, report) -> None:
        self.browser.reload_files()
        self.reload_file()
        if self.data is not None:
            self.transcript.show_file(self.data)
        self.refresh_review()
        if getattr(report, "notice", ""):
            self.statusBar().showMessage(report.notice, 15000)
        if getattr(report, "failed", None):
            QMessageBox.warning(self, "Some files failed", report.summary())

    def retrain(self) -> None:
        corpus = self._corpus_or_warn()
        if not corpus:
            return
        self.retrain_dialog = RetrainDialog(self.store, corpus, backbone=self.settings.ser_backbone or None,
                                            device=self.settings.device, parent=self)
        self.retrain_dialog.activated.connect(lambda mv: self._model_activated(mv, reanalyze=True))
        self.retrain_dialog.finished.connect(lambda _r: self.refresh_models())
        self.retrain_dialog.show()

    def edit_settings(self) -> None:
        dialog = SettingsDialog(self.settings, self)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            new = dialog.result_settings()
            new.save()
            if new.db_url != self.settings.db_url:
                QMessageBox.information(self, "Settings", "The new store location is used from the next start.")
            self.settings = new
            self.editor.annotator = new.annotator

    def show_agreement(self) -> None:
        from gui.agreement_dialog import AgreementDialog  # issue 14: ICC, alpha, CCC, kappa per dimension

        if self.browser.corpus_name():
            self.agreement_dialog = AgreementDialog(self.store, self.browser.corpus_name(), self)
            self.agreement_dialog.show()

    def show_export(self) -> None:
        from gui.export_dialog import ExportDialog  # issue 14: CSV scales, MSP, ELAN, TextGrid, audformat

        if self._corpus_or_warn():
            self.export_dialog = ExportDialog(self.store, self.browser.corpus_name(), self)
            self.export_dialog.show()

    def show_annotation_jobs(self) -> None:
        from gui.annotation_jobs import AnnotationJobsDialog  # issue 14: jobs, overlap, blind mode, progress

        if self.browser.corpus_name():
            self.jobs_dialog = AnnotationJobsDialog(self.store, self.browser.corpus_name(), self.settings.annotator,
                                                    self)
            self.jobs_dialog.segment_chosen.connect(self.go_to)
            self.jobs_dialog.show()


