"""`emotrace gui`: open the main window on a store (the default one unless --db says otherwise)."""

from __future__ import annotations

import sys

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QApplication

from emotrace.core.paths import resolve_db_url
from emotrace.gui.main_window import MainWindow
from emotrace.gui.settings import AppSettings, ask_annotator
from emotrace.training.default_model import open_store


def run(db_url: str | None = None, corpus: str | None = None, argv: list[str] | None = None) -> int:
    QCoreApplication.setOrganizationName("EmoTrace")
    QCoreApplication.setApplicationName("EmoTrace")
    app = QApplication.instance() or QApplication(argv or sys.argv[:1])
    settings = AppSettings.load()
    if not ask_annotator(settings):
        return 0  # no name, no labels: nothing to open the app for
    url, source = resolve_db_url(db_url)  # the CLI's order: --db > EMOTRACE_DB > EMOTRACE_HOME > settings > default
    store = open_store(url)  # as the CLI opens it: a fresh store gets the bundled model
    window = MainWindow(store, settings, store_source=source)
    if corpus:
        index = window.browser.corpus_box.findText(corpus)
        if index >= 0:
            window.browser.corpus_box.setCurrentIndex(index)
    window.show()
    if store.notice:  # read-only, triggers re-created, a label history that does not verify: said once, as the CLI
        print(f"note: {store.notice}", file=sys.stderr)
        window.statusBar().showMessage(store.notice, 30000)
    window.browser.select_row(0)
    return app.exec()
