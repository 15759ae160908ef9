"""User settings (QSettings): store location, device, ASR model, SER backbone, annotator name.

The annotator name is never taken silently from the OS user: labels carry it into agreement figures and
exports, so the app asks once (`ask_annotator`, the OS user offered as a default) and remembers the answer.
"""

from __future__ import annotations

import getpass
from dataclasses import dataclass, fields

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QComboBox, QDialog, QDialogButtonBox, QFormLayout, QInputDialog, QLabel, QLineEdit

from emotrace.core.paths import check_db_url, resolve_db_url, save_db_url, saved_db_url
from emotrace.core.ser.hub import OFFLINE_AUDIO
from emotrace.core.speech.asr import DEFAULT_ASR_MODEL


@dataclass
class AppSettings:
    db_url: str = ""
    device: str = "auto"
    asr_model: str = DEFAULT_ASR_MODEL
    ser_backbone: str = OFFLINE_AUDIO
    annotator: str = ""

    @classmethod
    def load(cls, qs: QSettings | None = None) -> AppSettings:
        """Preferences from QSettings; the default store from the Qt-free settings.ini the CLI reads too (an
        older QSettings `db_url` is no longer consulted: it pinned the app to a store the CLI did not see)."""
        qs = qs or QSettings()
        s = cls(**{f.name: str(qs.value(f"settings/{f.name}", getattr(cls, f.name))) for f in fields(cls)
                   if f.name != "db_url"})
        s.db_url = saved_db_url() or ""
        return s

    def save(self, qs: QSettings | None = None) -> None:
        """The default store goes to settings.ini, checked (`check_db_url` raises ValueError on "alice")."""
        save_db_url(self.db_url or None)
        qs = qs or QSettings()
        for f in fields(self):
            if f.name != "db_url":
                qs.setValue(f"settings/{f.name}", getattr(self, f.name))
        qs.remove("settings/db_url")
        qs.sync()


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001
        return "annotator"


def ask_annotator(settings: AppSettings, parent=None) -> bool:
    """Ask for the annotator name once, when none is saved; False when the user cancelled."""
    if settings.annotator:
        return True
    name, ok = QInputDialog.getText(parent, "Who is annotating?",
                                    "Your annotator name (saved with every label you make; change it in Settings):",
                                    text=_user())
    if not ok or not name.strip():
        return False
    settings.annotator = name.strip()
    settings.save()
    return True


class SettingsDialog(QDialog):
    """The store in use is shown as such: it can differ from the saved default (`emotrace --db URL gui`)."""

    def __init__(self, settings: AppSettings, parent=None, store_in_use: str | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("EmoTrace settings")
        self.settings = settings
        form = QFormLayout(self)
        self.store_in_use = QLabel(store_in_use or settings.db_url)
        self.store_in_use.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        form.addRow("Store in use now", self.store_in_use)
        self.db = QLineEdit(settings.db_url)
        self.db.setPlaceholderText(resolve_db_url()[0])
        self.db.setToolTip("The store opened at the next start when neither --db, EMOTRACE_DB nor EMOTRACE_HOME "
                           "names one; empty: the user data folder's")
        self.db_error = QLabel("")
        self.db_error.setStyleSheet("color: #D55E00")
        self.device = QComboBox()
        self.device.addItems(["auto", "cpu", "cuda"])
        self.device.setCurrentText(settings.device)
        self.asr = QComboBox()
        self.asr.setEditable(True)
        self.asr.addItems(["tiny.en", "base", "small", "large-v3", "distil-large-v3"])
        self.asr.setCurrentText(settings.asr_model)
        self.backbone = QComboBox()
        self.backbone.setEditable(True)
        self.backbone.addItems([OFFLINE_AUDIO, "whisper:base", "ntu-spml/distilhubert", "facebook/hubert-large-ll60k"])
        self.backbone.setCurrentText(settings.ser_backbone)
        self.annotator = QLineEdit(settings.annotator)
        form.addRow("Default store (SQLAlchemy URL or SQLite path)", self.db)
        form.addRow("", self.db_error)
        form.addRow("Device", self.device)
        form.addRow("ASR model", self.asr)
        form.addRow("SER audio backbone", self.backbone)
        form.addRow("Annotator name", self.annotator)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self._accept_if_valid)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def _accept_if_valid(self) -> None:
        """A store that is no store ("alice") is said so under the field; the dialog stays open."""
        text = self.db.text().strip()
        try:
            if text:
                check_db_url(text)
        except ValueError as exc:
            self.db_error.setText(str(exc))
            return
        self.accept()

    def result_settings(self) -> AppSettings:
        return AppSettings(self.db.text().strip(), self.device.currentText(), self.asr.currentText().strip(),
                           self.backbone.currentText().strip(), self.annotator.text().strip() or self.settings.annotator)
