"""One-click retrain: the trainer in its own process, a live loss / development-CCC plot, progress and cancel,
then CCC per dimension for the parent and the new model side by side, and Activate or Keep the old one. The
trainer's verdict (training.gate: not worse than the active model on the same development data, or why the
two could not be compared) is shown as advice; the user decides.

Training runs in the app's warm worker process (`training.runner.shared_worker`), started and warmed up with the
backbone's encoders when the dialog opens, so a retrain after a few corrections costs seconds. One progress bar
says which stage the retrain is in (loading, features k/N, training epoch k/N, checking, activating) and an
estimate of the time left (`gui/state/retrain_progress.py`)."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from emotrace.core.errors import UserFacingError
from emotrace.core.ser.hub import DEFAULT_TEXT, OFFLINE_AUDIO
from emotrace.core.store import Store
from emotrace.core.vocab import DIMENSIONS
from emotrace.gui.state.retrain_progress import RetrainProgress
from emotrace.training import registry
from emotrace.training.runner import TrainingRun, shared_worker
from emotrace.training.trainer import TrainConfig

DIMS = DIMENSIONS


class RetrainDialog(QDialog):
    activated = Signal(int)

    def __init__(self, store: Store, corpus: str, *, backbone: str | None = None, device: str = "auto",
                 parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Retrain on {corpus}")
        self.resize(720, 560)
        self.store, self.corpus, self.backbone, self.device = store, corpus, backbone, device
        self.run: TrainingRun | None = None
        self.new_version: int | None = None
        self.mode = QComboBox()
        self.mode.addItems(["layers", "heads", "full"])  # layers: the default, as in `emotrace train`
        self.modalities = QComboBox()
        self.modalities.addItems(["both", "audio", "text"])
        self.epochs = QSpinBox()
        self.epochs.setRange(1, 1000)
        self.epochs.setValue(80)
        self.include_accepted = QCheckBox("also train on accepted predictions (the model's own outputs)")
        self.include_accepted.setToolTip("Off: only human judgements (imported, typed and traced values) are "
                                         "trained on, per dimension: a value left at the model's is not a target.")
        form = QFormLayout()
        form.addRow("mode", self.mode)
        form.addRow("modalities", self.modalities)
        form.addRow("epochs", self.epochs)
        form.addRow("labels", self.include_accepted)
        self.warm_start = QCheckBox("continue from the active model when it was trained on this corpus (seconds)")
        self.warm_start.setChecked(True)
        self.warm_start.setToolTip("A retrain after corrections starts from the active model's weights and runs "
                                   f"{TrainConfig.warm_epochs} epochs instead of the number above; a model trained "
                                   "elsewhere (the bundled one) or on other features is never continued.")
        form.addRow("start", self.warm_start)
        self.status = QLabel("Trains a new model version from the corpus labels in a separate process.")
        self.status.setWordWrap(True)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setValue(0)
        self.progress.setTextVisible(True)
        self.progress.setFormat("ready")
        self.tracker: RetrainProgress | None = None
        self.run_events: list[dict] = []
        self.plot = pg.PlotWidget(background="w")
        self.plot.addLegend()
        self.plot.setLabel("bottom", "epoch")
        self.loss_curve = self.plot.plot(pen=pg.mkPen("#7f8c8d", width=2), name="train loss (1-CCC)")
        self.ccc_curve = self.plot.plot(pen=pg.mkPen("#8e44ad", width=2), name="development mean CCC")
        self.table = QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels(["model", *DIMS])
        self.start_button = QPushButton("Start")
        self.cancel_button = QPushButton("Cancel")
        self.activate_button = QPushButton("Activate new model")
        self.keep_button = QPushButton("Keep the old one")
        self.cancel_button.setEnabled(False)
        self.activate_button.setEnabled(False)
        self.keep_button.setEnabled(False)
        self.start_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self.cancel)
        self.activate_button.clicked.connect(self.activate)
        self.keep_button.clicked.connect(self.accept)
        buttons = QHBoxLayout()
        for b in (self.start_button, self.cancel_button, self.activate_button, self.keep_button):
            buttons.addWidget(b)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.status)
        layout.addWidget(self.progress)
        layout.addWidget(self.plot, 2)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        self.epochs_seen: list[int] = []
        self.losses: list[float] = []
        self.cccs: list[float] = []
        self.timer = QTimer(self)
        self.timer.setInterval(100)
        self.timer.timeout.connect(self._poll)
        self.worker = shared_worker()  # warm while the user picks the options: the click then costs the training
        self.worker.warm_up(self._backbone(), DEFAULT_TEXT, "audio", device)

    def _backbone(self) -> str:
        active = self.store.models.active_model()
        return self.backbone or ((active.config or {}).get("audio_backbone") if active else None) or OFFLINE_AUDIO

    def _show_progress(self) -> None:
        if self.tracker is not None:
            self.progress.setValue(round(1000 * self.tracker.fraction()))
            self.progress.setFormat(self.tracker.text())

    def config(self) -> TrainConfig:
        return TrainConfig(corpus=self.corpus, mode=self.mode.currentText(), modalities=self.modalities.currentText(),
                           epochs=self.epochs.value(), audio_backbone=self.backbone, device=self.device, activate="never",
                           include_accepted=self.include_accepted.isChecked(), warm_start=self.warm_start.isChecked())

    def start(self) -> None:
        self.epochs_seen, self.losses, self.cccs = [], [], []
        self.table.setRowCount(0)
        self.activate_button.setText("Activate new model")
        self.tracker = RetrainProgress()
        self.run_events: list[dict] = []  # this run's events as they came (what the bar and the plot were drawn from)
        self.run = TrainingRun(self.store.url, self.config(), worker=shared_worker()).start()
        self.start_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.status.setText("Starting the trainer...")
        self._show_progress()
        self.timer.start()

    def cancel(self) -> None:
        if self.run is not None:
            self.run.cancel()
            self.status.setText("Cancelling: the active model stays as it is.")

    def _poll(self) -> None:
        if self.run is None:
            return
        for event in self.run.poll():
            kind = event["type"]
            self.run_events.append(event)
            if self.tracker is not None:
                self.tracker.update(event)
                self._show_progress()  # every stage shows, even when several arrive between two polls
            if kind == "features":
                self.status.setText(f"Encoding audio features: {event['done']}/{event['total']} files "
                                    "(cached for later retrains)")
            elif kind == "notice":
                self.status.setText(event["message"])
            elif kind == "epoch":
                self.epochs_seen.append(event["epoch"])
                self.losses.append(event["loss"])
                self.cccs.append(event["dev_mean_ccc"])
                self.loss_curve.setData(self.epochs_seen, self.losses)
                self.ccc_curve.setData(self.epochs_seen, self.cccs)
                self.status.setText(f"epoch {event['epoch']}: loss {event['loss']:.3f}, development CCC "
                                    + ", ".join(f"{k[0].upper()} {v:.3f}" for k, v in event["dev_ccc"].items()))
            elif kind == "finished":
                self._finished(event)
            elif kind in ("failed", "cancelled"):
                self.timer.stop()
                self.tracker = None
                self.progress.setValue(0)
                self.progress.setFormat("cancelled" if kind == "cancelled" else "failed")
                self.start_button.setEnabled(True)
                self.cancel_button.setEnabled(False)
                self.status.setText("Cancelled: the active model is unchanged." if kind == "cancelled" else
                                    f"Training failed: {event['error']}. The active model is unchanged.")
        self._show_progress()
        if self.run is not None and self.run.done and self.timer.isActive():
            self.timer.stop()

    def _finished(self, event: dict) -> None:
        self.timer.stop()
        self.new_version = event["model_version_id"]
        self._show_progress()
        self.cancel_button.setEnabled(False)
        self.activate_button.setEnabled(True)
        self.keep_button.setEnabled(True)
        metrics, parent = event["metrics"], event.get("parent_metrics")
        rows = []
        if parent:
            rows.append((f"parent v{parent['model_version_id']}", parent["ccc"]))
        rows.append((f"new v{self.new_version}", metrics["ccc"]))
        self.table.setRowCount(len(rows))
        for r, (name, ccc) in enumerate(rows):
            self.table.setItem(r, 0, QTableWidgetItem(name))
            for c, dim in enumerate(DIMS, start=1):
                self.table.setItem(r, c, QTableWidgetItem(f"{ccc[dim]:.3f}"))
        verdict = event.get("activation") or {}
        advice = ""
        if verdict:
            advice = (" Recommended: activate it" if verdict.get("recommended") else " Not recommended") + (
                f" ({verdict.get('comparison', '')}).")
            self.activate_button.setText("Activate new model" if verdict.get("recommended") else "Activate anyway")
        self.status.setText(f"Done in {event['seconds']:.1f} s. CCC on {metrics['split']} (n={metrics['n']})."
                            + advice)

    def activate(self) -> None:
        if self.new_version is not None:
            if self.tracker is not None:
                self.tracker.update({"type": "stage", "stage": "activating", "done": 0, "total": 1})
                self._show_progress()
                self.progress.repaint()
            try:  # the one gate of `models activate` and the Models panel: a broken model is never made active
                registry.activate(self.store, self.new_version, device=self.device)
            except UserFacingError as exc:
                QMessageBox.warning(self, "Activate", str(exc))
                return
            if self.tracker is not None:
                self.tracker.activated()
                self._show_progress()
            self.activated.emit(self.new_version)
        self.accept()

    def closeEvent(self, event) -> None:
        if self.run is not None and not self.run.done:
            self.run.cancel()
            self.run.join(timeout=10)
        super().closeEvent(event)
