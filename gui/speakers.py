"""Speakers in the app: the Diarize job, a speaker filter for the trajectories, and corrections of turns from
the speaker lane's context menu (reassign, split, rename, merge, undo). Every correction is a new revision of
the file's turns in the store; the window then redraws from the store."""

from __future__ import annotations

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QComboBox, QInputDialog, QLabel, QMenu, QMessageBox

from emotrace.core.store import TurnError
from emotrace.core.workflows.diarize import diarize_corpus
from emotrace.gui.shortcuts import assign
from emotrace.gui.state import keymap


class SpeakerControls:
    def __init__(self, window) -> None:
        self.window = window
        self.act_diarize = QAction("Diarize speakers", window, triggered=self.diarize)
        self.act_diarize.setToolTip("Who speaks when, for every file of the corpus (utterances are then cut at "
                                    "speaker changes; labels are not touched)")
        self.act_undo = assign(QAction("Undo speaker correction", window, triggered=self.undo), "undo_speakers")
        window.jobs_menu.addAction(self.act_diarize)
        window.edit_menu.addAction(self.act_undo)
        window.addAction(self.act_undo)
        self.filter = QComboBox()
        self.filter.setToolTip("Draw the trajectories of one speaker only (the others' windows become gaps)")
        self.filter.currentIndexChanged.connect(self._filter_chosen)
        window.toolbar.addWidget(QLabel(" Speaker: "))
        window.toolbar.addWidget(self.filter)
        window.file_view.speaker_menu_requested.connect(self.menu)

    # -- state ---------------------------------------------------------------------------------------
    def refresh(self) -> None:
        """The filter lists the open file's speakers (after opening a file or a correction)."""
        data = self.window.data
        current = self.filter.currentData()
        self.filter.blockSignals(True)
        self.filter.clear()
        self.filter.addItem("everyone", None)
        for name in data.speakers if data is not None else []:
            self.filter.addItem(name, name)
        index = self.filter.findData(current)
        self.filter.setCurrentIndex(max(0, index))
        self.filter.blockSignals(False)
        self.window.file_view.set_speaker_filter(self.filter.currentData())

    def _filter_chosen(self) -> None:
        self.window.file_view.set_speaker_filter(self.filter.currentData())

    def _file_id(self) -> int | None:
        return self.window.data.file_id if self.window.data is not None else None

    def _changed(self, message: str) -> None:
        self.window.reload_file()
        self.refresh()
        self.window.statusBar().showMessage(message, 8000)

    def _apply(self, what: str, change) -> bool:
        try:
            revision = change()
        except TurnError as exc:
            QMessageBox.information(self.window, "Speakers", str(exc))
            return False
        self._changed(f"{what} (speaker turns revision {revision}; {keymap.key_text('undo_speakers')} undoes it)")
        return True

    # -- corrections ---------------------------------------------------------------------------------
    def reassign(self, index: int, speaker: str) -> bool:
        store, fid = self.window.store, self._file_id()
        return self._apply(f"Turn {index + 1} is now {speaker}", lambda: store.speakers.reassign_turn(fid, index, speaker))

    def split(self, index: int, at: float, speaker: str | None = None) -> bool:
        store, fid = self.window.store, self._file_id()
        return self._apply(f"Turn {index + 1} split at {at:.2f} s",
                           lambda: store.speakers.split_turn(fid, index, at, speaker))

    def rename(self, old: str, new: str) -> bool:
        store, fid = self.window.store, self._file_id()
        return self._apply(f"{old} is now {new}", lambda: store.speakers.rename_speaker(fid, old, new))

    def undo(self) -> bool:
        if self._file_id() is None:
            return False
        store, fid = self.window.store, self._file_id()
        return self._apply("Speaker correction undone", lambda: store.speakers.undo_speaker_edit(fid))

    def menu(self, t: float, screen_pos) -> None:
        data = self.window.data
        if data is None or not data.turns:
            QMessageBox.information(self.window, "Speakers", "This file has no speaker turns yet: Jobs > Diarize "
                                                             "speakers finds them.")
            return
        index = data.turn_at(t)
        menu = QMenu(self.window)
        if index is not None:
            turn = data.turns[index]
            reassign = menu.addMenu(f"Turn {index + 1} ({turn.speaker}) is really...")
            for name in data.speakers:
                if name != turn.speaker:
                    reassign.addAction(name, lambda n=name: self.reassign(index, n))
            reassign.addAction("a new speaker...", lambda: self._ask(
                "New speaker", "Name:", lambda n: self.reassign(index, n)))
            menu.addAction(f"Split turn {index + 1} here ({t:.2f} s)", lambda: self.split(index, t))
            menu.addAction(f"Rename {turn.speaker}...", lambda: self._ask(
                f"Rename {turn.speaker}", "New name (e.g. host):", lambda n: self.rename(turn.speaker, n)))
            merge = menu.addMenu(f"Merge {turn.speaker} into...")
            for name in data.speakers:
                if name != turn.speaker:
                    merge.addAction(name, lambda n=name: self.rename(turn.speaker, n))
        menu.addAction(self.act_undo)
        menu.popup(screen_pos)
        self.last_menu = menu

    def _ask(self, title: str, prompt: str, then) -> None:
        name, ok = QInputDialog.getText(self.window, title, prompt)
        if ok and name.strip():
            then(name.strip())

    # -- the job ---------------------------------------------------------------------------------------
    def diarize(self) -> None:
        window = self.window
        corpus = window._corpus_or_warn()
        if not corpus:
            return

        def work(progress, cancel):
            progress(0, 1, "loading the speaker encoder")
            return diarize_corpus(window.store, corpus, progress=progress, cancel=cancel)

        def done(report):
            window._task_done(report)
            self.refresh()

        window.tasks.start(f"Diarize {corpus}", work, done)
