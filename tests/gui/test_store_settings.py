"""The app opens the store the CLI opens and says which (issue 24, item 3): the title and Help > About name the
store and why; the Settings field refuses a store that is no store ("alice") and stays open."""

from __future__ import annotations

from PySide6.QtCore import Qt

from emotrace.gui.settings import AppSettings, SettingsDialog


def test_alice_is_not_a_store(qtbot, tmp_path):
    dialog = SettingsDialog(AppSettings(annotator="t"), store_in_use="sqlite:///x.sqlite")
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.db.clear()
    qtbot.keyClicks(dialog.db, "alice")
    qtbot.keyClick(dialog.db, Qt.Key.Key_Return)
    assert dialog.isVisible() and "alice" in dialog.db_error.text()
    dialog.db.clear()
    qtbot.keyClicks(dialog.db, str(tmp_path / "team.sqlite"))
    qtbot.keyClick(dialog.db, Qt.Key.Key_Return)
    assert not dialog.isVisible() and dialog.result() == dialog.DialogCode.Accepted
    new = dialog.result_settings()
    new.save()
    assert AppSettings.load().db_url == str(tmp_path / "team.sqlite")


def test_the_title_and_about_name_the_store_and_why(qtbot, store):
    from emotrace.gui.main_window import MainWindow

    w = MainWindow(store, AppSettings(db_url="", annotator="t"), store_source="EMOTRACE_HOME")
    qtbot.addWidget(w)
    assert w.windowTitle() == f"EmoTrace - {store.url} (from EMOTRACE_HOME)"
    assert store.url in w.about_text() and "EMOTRACE_HOME" in w.about_text()
