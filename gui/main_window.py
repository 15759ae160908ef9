"""The main window: docks around the file view; toolbar jobs run off the GUI thread; layout remembered.

What is open and where the time is lives in `gui.state.view_state.ViewState` (Qt-free, evented). The window
turns user input into view-state changes and store writes; the views observe the view state (time-linked
views through `show_time`), so the window no longer pushes the time into each child.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtGui import QAction
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
    QScrollArea,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)

from emotrace.core.audio.envelope import envelope
from emotrace.core.formats.label_tables import export_msp, export_segments
from emotrace.core.speech.asr_torch import open_transcriber
from emotrace.core.store import SegmentSpec, Store
from emotrace.core.timecode import format_time
from emotrace.core.vocab import FileStatus, SegmentOrigin
from emotrace.core.workflows.analyze import analyze_corpus, analyze_everywhere
from emotrace.core.workflows.annotation_jobs import Sight, corpus_sight, file_sight
from emotrace.core.workflows.importing import import_folder
from emotrace.core.workflows.transcribe import transcribe_corpus
from emotrace.gui.agreement_dialog import AgreementDialog
from emotrace.gui.annotation_jobs import AnnotationJobsDialog
from emotrace.gui.annotator_lanes import AnnotatorLanes
from emotrace.gui.bridge import ActivityWatch, StoreBridge
from emotrace.gui.corpus_browser import CorpusBrowser
from emotrace.gui.export_dialog import ExportDialog
from emotrace.gui.file_view import FileView
from emotrace.gui.label_editor import LabelEditor
from emotrace.gui.models_panel import ModelsPanel
from emotrace.gui.player import Player
from emotrace.gui.retrain import RetrainDialog
from emotrace.gui.review_panel import ReviewPanel
from emotrace.gui.segment_editing import SegmentEditing
from emotrace.gui.settings import AppSettings, SettingsDialog
from emotrace.gui.shortcuts import ShortcutSheet, assign, bind
from emotrace.gui.speakers import SpeakerControls
from emotrace.gui.state import keymap
from emotrace.gui.state.view_state import ViewState, step_segment
from emotrace.gui.state.viewdata import FileData, load_file_data, load_labels
from emotrace.gui.tasks import BackgroundTask, TasksPanel
from emotrace.gui.tracing import TraceControls
from emotrace.gui.trajectory_stream import TrajectoryStream
from emotrace.gui.transcript import TranscriptView
from emotrace.gui.transport import TransportBar
from emotrace.gui.why_panel import WhyPanel

CENTRE_SHARE = 0.5  # the least share of the window's width the file view keeps
# The label editor (387 px at least) and the Why panel scroll within their docks: stacked under the transcript they
# asked for 785 px of window height, so the window could not fit a 1024x700 screen (a new user's run under Xvfb).
# (the Annotators dock's least height had held the idle Jobs tab beside it at 130 px)
SCROLLING_DOCKS = ("Label", "Why this value", "Annotators")
JOBS_HEIGHT = 170  # the bottom strip's height with the Jobs tab raised
JOBS_LEAST = 60  # the idle Jobs strip in a low window: its queue line and a row
ANNOTATORS_HEIGHT = 260  # the least height of the Annotators dock with its tab raised (40% of the window, <= 340)


def scrolling(widget: QWidget) -> QScrollArea:
    """`widget` in a frameless scroll area that follows the dock's width: its least height no longer sets the
    window's, and a low window shows a scroll bar instead of laying docks over one another."""
    area = QScrollArea()
    area.setWidget(widget)
    area.setWidgetResizable(True)
    area.setFrameShape(QScrollArea.Shape.NoFrame)
    area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    # the width stays the widget's own least width (a scroll area would let the dock shrink and cut it off)
    area.setMinimumWidth(widget.minimumSizeHint().width() + area.verticalScrollBar().sizeHint().width())
    area.setMinimumHeight(30)  # a scroll area's own least height (its scroll bar's) held the Jobs tab beside it
    return area


class MainWindow(QMainWindow):
    def __init__(self, store: Store, settings: AppSettings | None = None, store_source: str = "") -> None:
        super().__init__()
        self.store = store
        self.settings = settings or AppSettings.load()
        self.store_source = store_source  # why this store: --db, EMOTRACE_DB, EMOTRACE_HOME, settings or default
        self.setWindowTitle(f"EmoTrace - {store.url}" + (f" (from {store_source})" if store_source else ""))
        self.resize(1400, 900)
        self.bridge = StoreBridge(store, self)
        self.stream = TrajectoryStream(store, self)  # the open file's curves grow while analysis runs
        self.view_state = ViewState()
        self.view_state.set_viewer(self.settings.annotator)
        self.data: FileData | None = None
        self.model_notice = ""  # why the view shows another model than the one chosen, if it does
        self.catch_up: tuple[int, BackgroundTask] | None = None  # the activated model and the job analysing what it has not

        self.file_view = FileView()
        self.transport = TransportBar()
        self.browser = CorpusBrowser(store)
        self.transcript = TranscriptView()
        self.tasks = TasksPanel()
        self.editor = LabelEditor(store, self.settings.annotator)
        self.review = ReviewPanel(store)
        self.review.viewer = self.view_state.viewer
        self.models_panel = ModelsPanel(store)
        self.annotator_lanes = AnnotatorLanes(store, self.settings.annotator)
        # issue 26, item 5; what it may show: the file view's sight, the one blind rule
        self.why = WhyPanel(self.view_state, lambda: self.data, lambda sid: self.file_view.sight.shows(sid))
        self.player = Player(self)
        centre = QWidget()
        centre_layout = QVBoxLayout(centre)
        centre_layout.setContentsMargins(0, 0, 0, 0)
        centre_layout.setSpacing(0)
        centre_layout.addWidget(self.transport)
        centre_layout.addWidget(self.file_view, 1)
        self.setCentralWidget(centre)
        self.docks = {}
        for name, widget, area in (
            ("Corpus", self.browser, Qt.DockWidgetArea.LeftDockWidgetArea),
            ("Transcript", self.transcript, Qt.DockWidgetArea.RightDockWidgetArea),
            ("Label", self.editor, Qt.DockWidgetArea.RightDockWidgetArea),
            ("Review queue", self.review, Qt.DockWidgetArea.LeftDockWidgetArea),
            ("Models", self.models_panel, Qt.DockWidgetArea.LeftDockWidgetArea),
            ("Jobs", self.tasks, Qt.DockWidgetArea.BottomDockWidgetArea),
            ("Annotators", self.annotator_lanes, Qt.DockWidgetArea.BottomDockWidgetArea),
            ("Why this value", self.why, Qt.DockWidgetArea.RightDockWidgetArea),
        ):
            dock = QDockWidget(name, self)
            dock.setObjectName(f"dock-{name}")
            dock.setWidget(scrolling(widget) if name in SCROLLING_DOCKS else widget)
            self.addDockWidget(area, dock)
            self.docks[name] = dock
        self.tabifyDockWidget(self.docks["Corpus"], self.docks["Review queue"])
        self.tabifyDockWidget(self.docks["Corpus"], self.docks["Models"])
        self.docks["Corpus"].raise_()
        # Jobs and the annotator lanes share one tabbed strip under the lanes, so the file view keeps its height
        self.tabifyDockWidget(self.docks["Jobs"], self.docks["Annotators"])
        self.docks["Jobs"].raise_()
        self.resizeDocks([self.docks["Jobs"]], [JOBS_HEIGHT], Qt.Orientation.Vertical)
        # the editor is the right column's main work: it starts as tall as it would like (the Why panel gives way)
        self.resizeDocks([self.docks["Label"]], [self.editor.sizeHint().height() + 30], Qt.Orientation.Vertical)
        self.handles = self.file_view.handles
        for view in (self.file_view, self.transcript, self.transport, self.annotator_lanes):
            self.view_state.add_time_view(view)
        self.annotator_lanes.view_requested.connect(self.view_state.set_view)
        self._docks_ready = False
        QTimer.singleShot(0, lambda: setattr(self, "_docks_ready", True))
        self.docks["Annotators"].visibilityChanged.connect(self._annotators_shown)
        self._build_actions()
        self._build_shortcuts()
        self._connect()
        self.speakers = SpeakerControls(self)
        self.tasks.watch_queue(store)
        self.tracing = TraceControls(self)
        self.segment_editing = SegmentEditing(self)
        self.status = QLabel("")
        self.statusBar().addPermanentWidget(self.status)
        self.refresh_models()
        self._restore_layout()
        if self.player.silent:
            self.statusBar().showMessage("No audio output device: playback runs silently (playhead only).", 8000)

    # -- view-state shortcuts for callers (tests, scripts) --------------------------------------------
    @property
    def segment_index(self) -> int | None:
        return self.view_state.segment_index

    @property
    def shown_models(self) -> list[int]:
        """The models the view draws: the chosen ones, or the newest that analysed this file (see model_notice)."""
        return self.view_state.shown_models

    # -- construction -----------------------------------------------------------------------------
    def _build_actions(self) -> None:
        tb = self.addToolBar("Main")
        tb.setObjectName("toolbar-main")
        self.toolbar = tb
        menu = self.menuBar().addMenu("&File")
        jobs_menu = self.menuBar().addMenu("&Jobs")
        self.jobs_menu = jobs_menu
        view_menu = self.menuBar().addMenu("&View")
        self.act_import = QAction("Import folder...", self, triggered=self.import_folder)
        self.act_import.setToolTip("Import every audio file under a folder (labels CSV found next to them)")
        self.act_export = assign(QAction("Export labels...", self, triggered=self.export_labels), "export_labels")
        self.act_export.setToolTip("Write the corpus's labels as a flat CSV or an MSP-Podcast labels_consensus.csv")
        self.act_transcribe = QAction("Transcribe", self, triggered=self.transcribe)
        self.act_transcribe.setToolTip("Words with timestamps for every file of the corpus (Whisper)")
        self.act_analyze = QAction("Analyze", self, triggered=self.analyze)
        self.act_analyze.setToolTip("A/V/D per segment and over time for the corpus, with the shown model")
        self.act_retrain = QAction("Retrain", self, triggered=self.retrain)
        self.act_retrain.setToolTip("Train a new model version on the corpus's labels, your corrections included")
        self.act_settings = QAction("Settings...", self, triggered=self.edit_settings)
        self.act_agreement = QAction("Annotator agreement...", self, triggered=self.show_agreement)
        self.act_annotation_jobs = QAction("Annotation jobs...", self, triggered=self.show_annotation_jobs)
        self.act_undo = assign(self.editor.undo_stack.createUndoAction(self, "Undo"), "undo")
        self.act_redo = assign(self.editor.undo_stack.createRedoAction(self, "Redo"), "redo")
        self.act_export_all = QAction("Export (ELAN, TextGrid, audformat, RTTM, ...)...", self,
                                      triggered=self.show_export)
        menu.addActions([self.act_import, self.act_export, self.act_export_all, self.act_settings])
        menu.addSeparator()
        menu.addAction(assign(QAction("Quit", self, triggered=self.close), "quit"))
        jobs_menu.addActions([self.act_transcribe, self.act_analyze, self.act_retrain, self.act_agreement,
                              self.act_annotation_jobs])
        edit_menu = self.menuBar().addMenu("&Edit")
        edit_menu.addActions([self.act_undo, self.act_redo])
        self.edit_menu = edit_menu
        for dock in self.docks.values():
            view_menu.addAction(dock.toggleViewAction())
        view_menu.addActions(self.file_view.acoustic.actions)  # spectrogram, F0, loudness lanes
        help_menu = self.menuBar().addMenu("&Help")
        self.act_shortcuts = assign(QAction("Keyboard shortcuts", self, triggered=self.show_shortcuts), "shortcuts")
        help_menu.addAction(self.act_shortcuts)
        help_menu.addAction("About EmoTrace", self.show_about)
        tb.addActions([self.act_import, self.act_transcribe, self.act_analyze, self.act_retrain])
        tb.addSeparator()
        tb.addWidget(QLabel(" Show model: "))
        self.model_box = QComboBox()
        self.model_box.setMinimumWidth(160)
        self.model_box.setToolTip("The model whose predictions are drawn (solid) and offered to accept "
                                  f"({keymap.key_text('accept_prediction')})")
        tb.addWidget(self.model_box)
        tb.addWidget(QLabel(" Compare with: "))
        self.compare_box = QComboBox()
        self.compare_box.setMinimumWidth(160)
        self.compare_box.setToolTip("A second model version, drawn dotted where it has predictions")
        tb.addWidget(self.compare_box)
        tb.addSeparator()
        tb.addAction(self.act_settings)

    def _build_shortcuts(self) -> None:
        """The window-wide keys of `gui.state.keymap` (the menu actions get theirs where they are made)."""
        vs = self.view_state
        handlers = {
            "play_pause": self.toggle_play,
            "play_segment": self.play_segment,
            "loop": self.transport.loop.toggle,
            "next_segment": self.next_segment,
            "previous_segment": self.previous_segment,
            "down": lambda: self.tracing.nudge(-1) if self.tracing.active else (
                self.browser.step_file(1) if self.browser.table.hasFocus() else self.next_segment()),
            "up": lambda: self.tracing.nudge(1) if self.tracing.active else (
                self.browser.step_file(-1) if self.browser.table.hasFocus() else self.previous_segment()),
            "to_start": lambda: self.seek(0.0),
            "to_end": lambda: self.seek(vs.duration),
            "pan_left": lambda: self.pan(-0.5),
            "pan_right": lambda: self.pan(0.5),
            "zoom_in": lambda: vs.zoom(0.5, vs.playhead),
            "zoom_out": lambda: vs.zoom(2.0, vs.playhead),
            "zoom_selection": self.zoom_to_selection,
            "whole_file": lambda: vs.set_view(0.0, vs.duration),
            "create_segment": self.create_segment,
            "accept_prediction": self.editor.accept_prediction,
            "next_review": self.review.next,
            "previous_dimension": lambda: self.editor.cycle_focus(-1),
            "next_dimension": lambda: self.editor.cycle_focus(1),
            "save_and_next": self.editor.save_and_next,
        }
        self.shortcuts = [sc for action_id, handler in handlers.items()
                          for sc in bind(self, action_id, handler, unless=self._typing)]
        self.shortcuts += bind(self, "set_value", self._value_key, unless=self._typing, with_key=True)

    def _value_key(self, key: str) -> None:
        """A digit: the traced value while tracing, else the focused dimension's value."""
        if self.tracing.active:
            self.tracing.set_value(float(key))
        else:
            self.editor.set_focused_value(float(key))

    def _typing(self) -> bool:
        """Single-key shortcuts stand aside while the user types in a text field."""
        w = self.focusWidget()
        return isinstance(w, (QLineEdit, QTextEdit, QPlainTextEdit)) and not isinstance(w, TranscriptView)

    def _handle_dragged(self, dim: int, value: float) -> None:
        self.editor.set_value(dim, round(value * 4) / 4)
        self.editor.save()

    def _connect(self) -> None:
        self.browser.file_selected.connect(self.open_file)
        self.browser.corpus_changed.connect(self._corpus_changed)
        fv = self.file_view
        fv.seek_requested.connect(self.seek)
        fv.segment_clicked.connect(lambda i: self.select_segment(i, move_view=False))
        fv.view_requested.connect(self.view_state.set_view)
        fv.range_selected.connect(lambda lo, hi: self.statusBar().showMessage(
            f"Selected {hi - lo:.2f} s: {keymap.key_text('zoom_selection')} zooms to it, "
            f"{keymap.key_text('loop')} loops it, {keymap.key_text('play_pause')} plays it", 6000))
        fv.handle_dragged.connect(self._handle_dragged)
        self.transcript.seek_requested.connect(self.seek)
        self.transport.play_toggled.connect(self.toggle_play)
        self.transport.speed_changed.connect(self.player.set_rate)
        self.transport.follow_changed.connect(lambda on: setattr(self.view_state, "follow_playhead", on))
        self.player.position_changed.connect(lambda t: self.view_state.set_playhead(t, self.player.playing))
        self.player.state_changed.connect(lambda playing: self.view_state.set_playhead(self.player.position(), playing))
        self.player.message.connect(lambda m: self.statusBar().showMessage(m, 8000))
        self.model_box.currentIndexChanged.connect(self._models_chosen)
        self.compare_box.currentIndexChanged.connect(self._models_chosen)
        self.tasks.task_failed.connect(lambda title, msg: QMessageBox.warning(self, f"{title} failed", msg))
        self.editor.saved.connect(self._label_saved)
        self.editor.save_failed.connect(lambda msg: QMessageBox.critical(self, "Label not saved", msg))
        self.editor.next_requested.connect(lambda: self.next_segment(across_files=True))
        self.editor.status.connect(lambda msg: self.statusBar().showMessage(msg, 10000))
        self.editor.segment_requested.connect(self._show_file_of)
        for spin in self.editor.spins:  # the handles show what the editor holds: typed, keyed, undone, redone
            spin.valueChanged.connect(self._sync_handles)
        self.review.item_chosen.connect(self.go_to)
        self.review.span_chosen.connect(self.go_to_span)
        self.models_panel.activated.connect(self._model_activated)
        self.bridge.changed.connect(self._store_changed)
        self.stream.arrived.connect(self._trajectory_arrived)
        self.stream.watch(lambda: [(self.data.file_id, m) for m in self.shown_models] if self.data is not None else [])
        self.view_state.viewer_changed.connect(self._viewer_changed)
        # the file list's counts follow this app's saves and jobs (debounced) and what other processes did
        self.counts_timer = QTimer(self, singleShot=True, interval=800, timeout=self.browser.reload_files)
        self.activity = ActivityWatch(self.store, parent=self)
        self.activity.changed.connect(self._outside_change)

    def _show_file_of(self, segment_id: int) -> None:
        """An undo or redo of a label in another file: open that file at the segment first (never out of sight)."""
        file_id = self.store.segments.segment(segment_id).file_id
        if self.data is None or self.data.file_id != file_id:
            self.go_to(file_id, segment_id)

    def _sync_handles(self, *_args) -> None:
        if self.view_state.segment_index is None:
            self.file_view.set_handles(None)
        else:
            self.file_view.set_handles(tuple(spin.value() for spin in self.editor.spins))

    # -- layout persistence -----------------------------------------------------------------------
    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        QTimer.singleShot(0, self.keep_centre_room)

    def _annotators_shown(self, visible: bool) -> None:
        """The Annotators tab shares the strip with Jobs, whose 170 pixels are too few for lanes: it is taller
        while its tab is raised, and the strip gives the height back when Jobs is raised again."""
        if not self._docks_ready:  # the first show raises tabs too; only a user's choice resizes
            return
        height = max(ANNOTATORS_HEIGHT, min(int(0.4 * self.height()), 340)) if visible else JOBS_HEIGHT
        self.resizeDocks([self.docks["Annotators"] if visible else self.docks["Jobs"]], [height],
                         Qt.Orientation.Vertical)

    def keep_centre_room(self) -> None:
        """The file view keeps at least half the width: at 1024x700 the side docks had left it 340 pixels, and the
        transport and lanes ran into each other (issue 24, item 8). Only a too-narrow centre moves the docks."""
        jobs = self.docks["Jobs"]
        if jobs.isVisible() and jobs.height() > 0.2 * self.height():  # a low window: the idle Jobs strip gives way
            self.resizeDocks([jobs], [max(90, int(0.15 * self.height()))], Qt.Orientation.Vertical)
        self._keep_editor_room()
        width = self.width()
        if self.centralWidget().width() >= CENTRE_SHARE * width:
            return
        side = max(200, int(width * (1 - CENTRE_SHARE) / 2) - 10)
        self.resizeDocks([self.docks["Corpus"], self.docks["Transcript"]], [side, side], Qt.Orientation.Horizontal)

    def _keep_editor_room(self) -> None:
        """A low window (1024x700) gives the label editor its height first: the idle Jobs strip had kept 150 pixels
        of empty list while the editor, squeezed in its scroll area, hid its Save and Accept buttons."""
        label = self.docks["Label"]
        viewport = label.widget().viewport()
        # the height it would like at this width (its wrapped lines grow when narrow), less what the history list
        # would like beyond its least (the list scrolls; the buttons above it must show)
        layout, history = self.editor.layout(), self.editor.history
        wish = (layout.totalHeightForWidth(viewport.width()) if layout.hasHeightForWidth()
                else self.editor.sizeHint().height())
        least = wish - max(0, history.sizeHint().height() - history.minimumSizeHint().height())
        need = max(least, self.editor.minimumSizeHint().height()) - viewport.height()
        if need <= 0 or not label.isVisible():
            return
        jobs = self.docks["Jobs"]
        if jobs.isVisible():
            self.resizeDocks([jobs], [max(JOBS_LEAST, jobs.height() - need)], Qt.Orientation.Vertical)
        why = self.docks["Why this value"]
        if why.isVisible():  # the Why panel scrolls: it gives way too
            self.resizeDocks([label, why], [label.height() + need, max(60, why.height() - need)], Qt.Orientation.Vertical)
        else:
            self.resizeDocks([label], [label.height() + need], Qt.Orientation.Vertical)

    def _restore_layout(self) -> None:
        qs = QSettings()
        geometry, state = qs.value("window/geometry"), qs.value("window/state")
        if geometry is not None:
            self.restoreGeometry(geometry)
        if state is not None:
            self.restoreState(state)

    def closeEvent(self, event) -> None:
        self.tracing.stop()  # the pass's last second reaches the store
        qs = QSettings()
        qs.setValue("window/geometry", self.saveGeometry())
        qs.setValue("window/state", self.saveState())
        qs.sync()
        self.player.pause()
        self.tasks.cancel_all()
        self.bridge.close()
        super().closeEvent(event)

    # -- models ---------------------------------------------------------------------------------
    def refresh_models(self) -> None:
        versions = self.store.models.model_versions()
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

    def chosen_models(self) -> list[int]:
        shown = [self.model_box.currentData(), self.compare_box.currentData()]
        return [m for i, m in enumerate(shown) if m is not None and m not in shown[:i]]

    def _models_chosen(self) -> None:
        chosen = self.chosen_models()
        self.browser.model_version_id = chosen[0] if chosen else None
        if self.data is not None:
            self.reload_file()
        else:
            self.view_state.set_shown_models(chosen)
        self.refresh_review()

    def _models_for_file(self, file_id: int) -> list[int]:
        """The chosen models, except that a main model which never analysed this file is replaced by the newest
        one that did (a new version analyses one corpus; the others keep showing their trajectories), and a
        compare model without predictions here is dropped. The status line says so."""
        chosen = self.chosen_models()
        analysed = self.store.predictions.predicted_models(file_id)
        self.model_notice = ""
        if chosen and chosen[0] not in analysed and analysed:
            coming = self.catch_up is not None and self.catch_up[0] == chosen[0] and self.catch_up[1].isRunning()
            self.model_notice = (f"v{chosen[0]} has not analysed this file yet: showing v{analysed[0]} "
                                 + ("(it is being analysed: see Jobs)" if coming else "(Jobs > Analyze to update)"))
            chosen = [analysed[0], *chosen[1:]]
        elif chosen and chosen[0] not in analysed:
            self.model_notice = "No model has analysed this file yet (Jobs > Analyze)"
        return [m for i, m in enumerate(chosen) if (i == 0 or m in analysed) and m not in chosen[:i]]

    def _model_activated(self, model_version_id: int) -> None:
        """A version was activated (Models panel, roll back, or the Retrain dialog): show it, and analyse every
        corpus it has not analysed yet; until a file's turn comes, the view falls back to the newest model that
        analysed it (issue 12: other corpora used to stay unanalysed, an empty plot and an editor at 4/4/4).
        The job starts first, so the fallback's notice already says the update is on its way."""
        self.analyze_everywhere(model_version_id)
        self.model_box.blockSignals(True)
        self.model_box.setCurrentIndex(-1)
        self.model_box.blockSignals(False)
        self.refresh_models()
        self.model_box.setCurrentIndex(max(0, self.model_box.findData(model_version_id)))

    def refresh_review(self) -> None:
        chosen = self.chosen_models()
        self.review.reload(self.browser.corpus_id(), chosen[0] if chosen else None)

    def _corpus_changed(self, corpus_id: int) -> None:
        self.view_state.set_corpus(corpus_id)
        self.refresh_review()

    # -- file and segment -------------------------------------------------------------------------
    def open_file(self, file_id: int) -> None:
        f = self.store.corpora.file(file_id)
        if f.status != FileStatus.OK:
            self.statusBar().showMessage(f"{f.path} failed to import: {f.error}", 10000)
            return
        self.tracing.stop()
        self.player.pause()
        models = self._models_for_file(file_id)
        self.view_state.set_shown_models(models)
        self.data = load_file_data(self.store, file_id, models)
        env = envelope(f.path, f.fingerprint)
        self.file_view.sight = self._sight()
        self.file_view.show_file(self.data, env, models)
        self.speakers.refresh()
        self.transcript.show_file(self.data)
        self.annotator_lanes.show_file(file_id, self.shown_models[0] if self.shown_models else None)
        self.player.load(f.path, self.data.duration)
        self.view_state.select(None)
        self.view_state.open_file(file_id, self.data.duration)
        live = self.data.live_indices()
        self.select_segment(int(live[0]) if len(live) else None)
        self._show_counts()
        if self.model_notice:
            self.statusBar().showMessage(self.model_notice, 10000)

    def _show_counts(self) -> None:
        d = self.data
        kept = len(d.seg_ids) - len(d.live_indices())
        self.status.setText(f"{d.path.rsplit('/', 1)[-1]}: {d.duration:.1f} s, {len(d.live_indices())} segments"
                            f"{f' (+{kept} superseded)' if kept else ''}, {len(d.word_texts)} words")

    def reload_file(self) -> None:
        """Re-read the current file's labels and predictions (after a save, an analysis, a model switch)."""
        if self.data is None:
            return
        keep = self.view_state.segment_index
        models = self._models_for_file(self.data.file_id)
        self.view_state.set_shown_models(models)
        self.data = load_file_data(self.store, self.data.file_id, models)
        self.file_view.data = self.data
        self.file_view.sight = self._sight()
        self.file_view.set_speakers()
        self.file_view.set_traces()
        self.file_view.set_segments()
        self.file_view.set_trajectories(models)
        self.file_view.set_labels()
        self.transcript.data = self.data
        self._show_counts()
        if keep is not None and keep < len(self.data.seg_ids):
            self.view_state.select(None)
            self.select_segment(keep, move_view=False)
        if self.model_notice:
            self.statusBar().showMessage(self.model_notice, 10000)

    def select_segment(self, index: int | None, move_view: bool = True) -> None:
        data = self.data
        if data is None or index is None or not len(data.seg_ids):
            self.view_state.select(None)
            self.editor.show_segment(None)
            self.file_view.select_segment(None)
            self.file_view.set_handles(None)
            return
        index = max(0, min(index, len(data.seg_ids) - 1))
        self.view_state.select(index)
        sid = int(data.seg_ids[index])
        start, end = (float(x) for x in data.seg_bounds[index])
        pred = None
        models = self.view_state.shown_models
        if models and sid in data.segment_predictions.get(models[0], {}):
            pred = tuple(data.segment_predictions[models[0]][sid][0])
        self.editor.show_segment(sid, f"{data.segment_name(index)}  {format_time(start, 2)}-{format_time(end, 2)}", pred,
                                 text=data.seg_texts[index])
        self.file_view.select_segment(index)
        self._sync_handles()
        lo, hi = self.view_state.view
        if move_view and (start < lo or end > hi):
            width = max(hi - lo, (end - start) * 1.5)
            self.view_state.set_view(start - 0.1 * width, start + 0.9 * width)

    def _step(self, step: int) -> int | None:
        """N/P from the playhead over the current segments (superseded ones are kept and drawn, not stepped)."""
        live = self.data.live_indices()
        j = step_segment(self.data.seg_bounds[live, 0], self.view_state.playhead, step)
        return None if j is None else int(live[j])

    def next_segment(self, across_files: bool = False) -> None:
        """N: the first segment starting after the playhead. At the file's last segment, Save & next
        (across_files) opens the next file: one segment per file is the normal case in MSP-Podcast."""
        if self.data is None:
            return
        i = self._step(+1)
        if i is None:
            if across_files and self.browser.select_next_file():
                return
            live = self.data.live_indices()
            if not len(live):
                return
            i = int(live[-1])
        self.select_segment(i)
        self.player.seek(float(self.data.seg_bounds[i, 0]))

    def previous_segment(self) -> None:
        if self.data is None or not len(self.data.live_indices()):
            return
        i = self._step(-1)
        i = int(self.data.live_indices()[0]) if i is None else i
        self.select_segment(i)
        self.player.seek(float(self.data.seg_bounds[i, 0]))

    def play_segment(self) -> None:
        if self.data is not None and self.view_state.segment_index is not None:
            start, end = self.data.seg_bounds[self.view_state.segment_index]
            self.player.play(float(start), float(end), loop=self.transport.loop.isChecked())

    def loop_range(self) -> tuple[float, float] | None:
        """What Loop plays: the drag-selected range, else the selected segment."""
        rng = self.file_view.time_selection_range()
        if rng is None and self.data is not None and self.view_state.segment_index is not None:
            rng = tuple(float(x) for x in self.data.seg_bounds[self.view_state.segment_index])
        return rng

    def toggle_play(self) -> None:
        if self.player.playing:
            self.player.pause()
            return
        rng = self.file_view.time_selection_range() if not self.transport.loop.isChecked() else self.loop_range()
        if rng is not None and (self.transport.loop.isChecked() or rng[0] <= self.view_state.playhead < rng[1]):
            start = self.view_state.playhead if rng[0] <= self.view_state.playhead < rng[1] else rng[0]
            self.player.play(start, rng[1], loop=self.transport.loop.isChecked(), loop_start=rng[0])
        else:
            self.player.play()

    def create_segment(self) -> int | None:
        """C: the drag-selected range becomes a new (manual) segment, selected at once for labelling."""
        rng = self.file_view.time_selection_range()
        if self.data is None or rng is None or rng[1] - rng[0] < 0.05:
            self.statusBar().showMessage("Drag on the waveform to select a range first, then press C", 6000)
            return None
        text = self.data.words_text(*rng)  # the words inside it, as every segment has (issue 24, item 7)
        (sid,) = self.store.segments.add_segments(self.data.file_id,
                                                  [SegmentSpec(rng[0], rng[1], SegmentOrigin.MANUAL, text)])
        self.reload_file()
        self.file_view.show_time_selection(None)
        index = self.go_to(self.data.file_id, sid, move_view=False)
        self.statusBar().showMessage(f"New {self.data.segment_name(index)}: {format_time(rng[0], 2)}-"
                                     f"{format_time(rng[1], 2)}", 6000)
        return sid

    def zoom_to_selection(self) -> None:
        rng = self.loop_range()
        if rng is not None:
            pad = 0.05 * (rng[1] - rng[0])
            self.view_state.set_view(rng[0] - pad, rng[1] + pad)

    def pan(self, fraction: float) -> None:
        lo, hi = self.view_state.view
        shift = fraction * (hi - lo)
        self.view_state.set_view(lo + shift, hi + shift)

    def ensure_open(self, file_id: int) -> None:
        """Open a file unless it is the open one: through its row in the browser when the corpus on show has it
        (the row follows), else directly (a row that is already current emits nothing)."""
        if self.data is None or self.data.file_id != file_id:
            self.browser.select_file(file_id)
            if self.data is None or self.data.file_id != file_id:
                self.open_file(file_id)

    def go_to(self, file_id: int, segment_id: int, move_view: bool = True) -> int | None:
        """Open the file, select the segment by id and put the playhead at its start; its index, if found."""
        self.ensure_open(file_id)
        if self.data is None:
            return None
        hits = np.flatnonzero(self.data.seg_ids == segment_id)
        if not len(hits):
            return None
        index = int(hits[0])
        self.select_segment(index, move_view=move_view)
        self.player.seek(float(self.data.seg_bounds[index, 0]))
        return index

    def go_to_span(self, file_id: int, start: float, end: float) -> None:
        """Open a file at a stretch (the trace review queue's items)."""
        self.ensure_open(file_id)
        self.view_state.set_view(max(0.0, start - 2.0), end + 2.0)
        self.seek(start)

    def seek(self, seconds: float) -> None:
        """A seek the user asked for (a click on a plot or a word, Home, End): the playhead moves, the view
        follows it, and the segment under it becomes the selection (editor included)."""
        self.player.seek(seconds)
        if self.data is not None:
            seg = self.data.segment_at(self.view_state.playhead)
            if seg is not None and seg != self.view_state.segment_index:
                self.select_segment(seg, move_view=False)

    def _label_saved(self, _segment_id: int) -> None:
        """A save changes labels only: re-read those and redraw the bars, not the whole file."""
        if self.data is None:
            return
        self.data.labels = load_labels(self.store, self.data.file_id)
        if self.file_view.sight.blind:
            self.file_view.set_sight(self._sight())  # redraws the model and the bars with what is now revealed
        else:
            self.file_view.set_labels()

    def _sight(self) -> Sight:
        """What the viewer may see of the open file: the one blind rule (core `file_sight`)."""
        return file_sight(self.store, self.view_state.viewer, self.data.file_id) if self.data else Sight()

    def _viewer_changed(self, viewer: str | None) -> None:
        """Another annotator looks: every view shows what they may see now, not after the file is re-opened."""
        self.editor.annotator = viewer or ""
        self.annotator_lanes.set_viewer(viewer)
        self.review.set_viewer(viewer)
        if self.data is not None:
            self.file_view.set_sight(self._sight())
            index = self.view_state.segment_index
            if index is not None:
                self.view_state.select(None)
                self.select_segment(index, move_view=False)  # the editor re-asks the rule for this viewer

    def _outside_change(self) -> None:
        """Another process changed the store: a new corpus appears; otherwise only the file list's counts are
        re-read (not the review queue, which a running CLI analysis would otherwise rebuild every few seconds)."""
        box = self.browser.corpus_box
        if [c.name for c in self.store.corpora.corpora()] != [box.itemText(i) for i in range(box.count())]:
            self.browser.reload_corpora()
        else:
            self.browser.reload_files()

    def _store_changed(self, what: str, info: dict) -> None:
        if what == "predictions_changed" and info.get("partial"):  # a piece of a file's analysis (issue 25, item 5)
            if (self.data is not None and info.get("file_id") == self.data.file_id
                    and info.get("model_version_id") in {*self.chosen_models(), *self.shown_models}):
                self.stream.note(self.data.file_id, info["model_version_id"])
            return
        if what in ("label_added", "labels_changed", "segments_changed", "predictions_changed", "file_transcribed"):
            self.counts_timer.start()
        if what in ("corpus_changed", "corpus_added"):
            self.browser.reload_corpora()
        elif what in ("model_registered", "model_activated"):
            self.refresh_models()
        elif (what == "predictions_changed" and self.data is not None and info.get("file_id") == self.data.file_id
              and info.get("model_version_id") in self.chosen_models()):
            self.reload_file()  # the open file's turn in an analysis came: its new trajectories show at once

    def _trajectory_arrived(self, file_id: int, model_version_id: int, read: tuple) -> None:
        """The open file's trajectory as analysis has stored it so far: only the curves are redrawn. A chosen
        model the view fell back from (it had not analysed this file) takes over at its first piece."""
        if self.data is None or file_id != self.data.file_id:
            return  # another file was opened meanwhile
        if model_version_id not in self.shown_models:
            if model_version_id not in self.chosen_models():
                return
            # the view fell back to another model; the chosen one's windows are partial (not yet "analysed", so a
            # reload would fall back again): show it in the main model's place from the rows read so far
            self.view_state.set_shown_models([model_version_id, *(m for m in self.shown_models[1:]
                                                                   if m != model_version_id)])
            self.statusBar().clearMessage()
        t, values, trust = read
        self.data.trajectories[model_version_id] = (t, values)
        self.data.trust[model_version_id] = trust
        self.file_view.set_trajectories(list(self.shown_models))

    def show_shortcuts(self) -> None:
        self.shortcut_sheet = ShortcutSheet(self)
        self.shortcut_sheet.show()

    def export_labels(self, path: str | None = None, msp: bool | None = None) -> int | None:
        """File > Export labels: the corpus's labels as the flat CSV or MSP-Podcast's labels_consensus.csv."""
        corpus = self._corpus_or_warn()
        if not corpus:
            return None
        if corpus_sight(self.store, self.view_state.viewer, self.store.corpora.corpus(corpus).id).blind:
            QMessageBox.information(self, "Export labels", "You label blind in this corpus: an export would show "
                                    "the model and the others' labels. Ask someone who is not blind to export.")
            return None
        if path is None:
            path, chosen = QFileDialog.getSaveFileName(
                self, "Export labels", f"{corpus}_labels.csv",
                "Flat CSV, one row per segment (*.csv);;MSP-Podcast labels_consensus.csv (*.csv)")
            if not path:
                return None
            msp = chosen.startswith("MSP")
        try:
            n = export_msp(self.store, corpus, path) if msp else export_segments(
                self.store, corpus, path, self.chosen_models()[0] if self.chosen_models() else None)
        except OSError as exc:
            QMessageBox.warning(self, "Export failed", f"{path}: {exc.strerror or exc}")
            return None
        self.statusBar().showMessage(f"Exported {n} rows of {corpus} to {path}", 10000)
        return n

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
        def done(report):
            self.browser.reload_corpora(select=corpus)
            if report.problems:
                QMessageBox.warning(self, "Import finished with problems", report.summary())
            self.statusBar().showMessage(report.summary().splitlines()[0], 10000)

        self.tasks.start(f"Import {corpus}",
                        lambda p, c: import_folder(self.store, folder, corpus, progress=p, cancel=c), done)

    def transcribe(self) -> None:
        corpus = self._corpus_or_warn()
        if not corpus:
            return
        model, device = self.settings.asr_model, self.settings.device

        def work(progress, cancel):
            progress(0, 1, f"loading {model}")
            return transcribe_corpus(self.store, corpus, open_transcriber(model, device=device), progress=progress,
                                     cancel=cancel)

        self.tasks.start(f"Transcribe {corpus}", work, lambda r: self._task_done(r))

    def analyze(self, model_version_id: int | None = None) -> None:
        corpus = self._corpus_or_warn()
        if not corpus:
            return
        model = model_version_id or self.model_box.currentData()
        device = self.settings.device

        def work(progress, cancel):
            progress(0, 1, "loading the model")
            return analyze_corpus(self.store, corpus, model=model, device=device, progress=progress, cancel=cancel)

        self.tasks.start(f"Analyze {corpus}", work, lambda r: self._task_done(r))

    def analyze_everywhere(self, model_version_id: int) -> BackgroundTask:
        """One job for every corpus, the open one first, skipping the files this model already analysed; an
        earlier catch-up still running is cancelled (its model is no longer the one activated last)."""
        if self.catch_up is not None and self.catch_up[1].isRunning():
            self.catch_up[1].cancel()
        first, device = self.browser.corpus_name(), self.settings.device

        def work(progress, cancel):
            return analyze_everywhere(self.store, model_version_id, first_corpus=first, device=device,
                                      progress=progress, cancel=cancel)

        job = self.tasks.start(f"Analyze with v{model_version_id}", work, self._task_done)
        self.catch_up = (model_version_id, job)
        return job

    def _task_done(self, report) -> None:
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
        self.retrain_dialog.activated.connect(self._model_activated)
        self.retrain_dialog.finished.connect(lambda _r: self.refresh_models())
        self.retrain_dialog.show()

    def about_text(self) -> str:
        """Which EmoTrace, which store and why that one (the CLI opens the same, in the same order)."""
        import emotrace  # lazy: the package root, for its version only

        why = f" (from {self.store_source})" if self.store_source else ""
        return (f"EmoTrace {emotrace.__version__}\n\nStore: {self.store.url}{why}\n\nThe CLI opens the same store: "
                "--db > EMOTRACE_DB > EMOTRACE_HOME > the default in Settings > the user data folder.")

    def show_about(self) -> None:
        QMessageBox.about(self, "About EmoTrace", self.about_text())

    def edit_settings(self) -> None:
        in_use = self.store.url + (f" (from {self.store_source})" if self.store_source else "")
        dialog = SettingsDialog(self.settings, self, store_in_use=in_use)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            new = dialog.result_settings()
            new.save()
            if new.db_url != self.settings.db_url:
                QMessageBox.information(self, "Settings", "The new store location is used from the next start.")
            self.settings = new
            self.view_state.set_viewer(new.annotator)

    def show_agreement(self) -> None:
        if self.browser.corpus_name():
            self.agreement_dialog = AgreementDialog(self.store, self.browser.corpus_name(), self)
            self.agreement_dialog.show()

    def show_export(self) -> None:
        if self._corpus_or_warn():
            self.export_dialog = ExportDialog(self.store, self.browser.corpus_name(), self,
                                              viewer=self.view_state.viewer)
            self.export_dialog.show()

    def show_annotation_jobs(self) -> None:
        if self.browser.corpus_name():
            self.jobs_dialog = AnnotationJobsDialog(self.store, self.browser.corpus_name(), self.settings.annotator,
                                                    self)
            self.jobs_dialog.segment_chosen.connect(self.go_to)
            self.jobs_dialog.show()


