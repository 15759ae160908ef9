"""File > Export: every export of the CLI from the app, one dialog (format, scale, destination).

Exports run on the GUI thread: each reads the store once and writes one file or folder, which takes well under
a second for thousands of segments; a long trajectory export of a large corpus is better run with
`emotrace trajectories`.

The default destination is the folder the user last exported to (remembered), else an "EmoTrace exports" folder
in their home, never the corpus's source folder; choosing another format changes only the file name. Exports
show the model's values and everyone's labels, so they ask the blind rule (core/workflows/annotation_jobs.py
`Sight`): a viewer with segments still blind to them in this corpus cannot export from the app.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QWidget,
)

from emotrace.core.formats import label_tables as export
from emotrace.core.formats.batch import export_corpus
from emotrace.core.formats.trajectories import export_trajectories
from emotrace.core.store import Store
from emotrace.core.vocab import EXPORT_SCALES
from emotrace.core.workflows.annotation_jobs import corpus_sight

# label, kind (file or folder), default name
FORMATS = [
    ("Segments CSV (labels and predictions)", "file", "segments.csv"),
    ("MSP-Podcast labels_consensus.csv", "file", "labels_consensus.csv"),
    ("MSP-Podcast labels_detailed.csv (one row per rater)", "file", "labels_detailed.csv"),
    ("ELAN .eaf (one per audio file)", "folder", "elan"),
    ("Praat TextGrid (one per audio file)", "folder", "textgrid"),
    ("audformat database", "folder", "audformat"),
    ("Trajectories of the active model (CSV or .parquet)", "file", "trajectories.parquet"),
]
SCALE_NAMES = {"1-7": "1-7 (MSP-Podcast)", "unit": "0..1", "signed": "-1..1"}  # how the choices read


def run_export(store: Store, corpus: str, index: int, destination: str, scale: str = "1-7",
               consensus: str | None = None) -> str:
    """Do export number `index` of FORMATS; returns what was written, in words."""
    if index == 0:
        return f"{export.export_segments(store, corpus, destination, scale=scale)} segments"
    if index == 1:
        return f"{export.export_msp(store, corpus, destination, annotator=consensus)} segments"
    if index == 2:
        return f"{export.export_msp_detailed(store, corpus, destination)} ratings"
    if index in (3, 4, 5):
        fmt = ("eaf", "textgrid", "audformat")[index - 3]
        return f"{len(export_corpus(store, corpus, destination, fmt))} file(s)"
    return f"{export_trajectories(store, corpus, destination, scale=scale)} windows"


class ExportDialog(QDialog):
    def __init__(self, store: Store, corpus: str, parent: QWidget | None = None, viewer: str | None = None) -> None:
        super().__init__(parent)
        self.store, self.corpus = store, corpus
        self.sight = corpus_sight(store, viewer, store.corpora.corpus(corpus).id)
        self.setWindowTitle(f"Export {corpus}")
        self.format = QComboBox()
        self.format.addItems([label for label, _kind, _name in FORMATS])
        self.scale = QComboBox()
        for value in EXPORT_SCALES:
            label = SCALE_NAMES[value]
            self.scale.addItem(label, value)
        self.consensus = QComboBox()
        for label, value in (("each segment's current label", None), ("computed mean of raters", "consensus:mean"),
                             ("computed EWE of raters", "consensus:ewe"), ("imported consensus", "consensus")):
            self.consensus.addItem(label, value)
        self.destination = QLineEdit()
        browse = QPushButton("Browse...", clicked=self.browse)
        row = QHBoxLayout()
        row.addWidget(self.destination, 1)
        row.addWidget(browse)
        form = QFormLayout(self)
        form.addRow("format", self.format)
        form.addRow("scale (CSV, trajectories)", self.scale)
        form.addRow("values (MSP consensus)", self.consensus)
        form.addRow("to", row)
        self.result = QLabel("")
        self.result.setWordWrap(True)
        form.addRow(self.result)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Close)
        buttons.accepted.connect(self.export)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self.ok_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        if self.sight.blind:
            hidden = len(self.sight.hidden)
            self.result.setText(f"You label blind here ({hidden} segment(s) still hidden from you): an export would "
                                "show the model and the others' labels. Ask someone who is not blind to export.")
            self.ok_button.setEnabled(False)
        self.format.currentIndexChanged.connect(self._format_changed)
        self.destination.setText(str(Path(self._folder()) / self._name()))

    def _name(self) -> str:
        return f"{self.corpus}-{FORMATS[self.format.currentIndex()][2]}"

    def _folder(self) -> str:
        """The folder last exported to, else ~/EmoTrace exports (never beside the corpus's source audio)."""
        return str(QSettings().value("export/folder", "") or Path.home() / "EmoTrace exports")

    def _format_changed(self) -> None:
        """Another format: the same folder (the one typed or browsed to), that format's file name."""
        current = self.destination.text().strip()
        folder = str(Path(current).parent) if current else self._folder()
        self.destination.setText(str(Path(folder) / self._name()))

    def browse(self) -> None:
        if FORMATS[self.format.currentIndex()][1] == "folder":
            chosen = QFileDialog.getExistingDirectory(self, "Export to folder", self.destination.text())
        else:
            chosen, _ = QFileDialog.getSaveFileName(self, "Export to file", self.destination.text())
        if chosen:
            self.destination.setText(chosen)

    def export(self) -> None:
        if self.sight.blind:
            return  # the button is off; a scripted call must not leak either
        try:
            what = run_export(self.store, self.corpus, self.format.currentIndex(), self.destination.text(),
                              self.scale.currentData(), self.consensus.currentData())
        except (OSError, ValueError, RuntimeError) as exc:
            QMessageBox.warning(self, "Export", f"Nothing was exported: {exc}")
            return
        self.result.setText(f"Wrote {what} to {self.destination.text()}")
        QSettings().setValue("export/folder", str(Path(self.destination.text()).parent))
