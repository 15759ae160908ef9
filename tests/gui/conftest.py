"""Fixtures of the gui tier only: QSettings kept in a temporary folder, and the main window on the shared
`populated` store (tests/conftest.py)."""

from __future__ import annotations

import pytest


@pytest.fixture
def qt_settings(tmp_path):
    """QSettings in a temporary folder, so GUI tests never read or write the user's."""
    from PySide6.QtCore import QCoreApplication, QSettings

    QCoreApplication.setOrganizationName("EmoTraceTests")
    QCoreApplication.setApplicationName(f"EmoTraceTests-{tmp_path.name}")
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path / "qsettings"))


@pytest.fixture
def window(qtbot, populated, qt_settings):
    from emotrace.gui.main_window import MainWindow
    from emotrace.gui.settings import AppSettings

    store, file_id, mv_id = populated
    w = MainWindow(store, AppSettings(db_url=store.url, annotator="tester"))
    qtbot.addWidget(w)
    w.resize(1200, 800)
    w.show()
    w.browser.select_row(0)
    qtbot.waitUntil(lambda: w.data is not None)
    return w
