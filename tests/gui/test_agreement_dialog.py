"""The agreement dialog on a store that holds the published worked examples (tests/helpers.py)."""

from __future__ import annotations

from tests.helpers import agreement_store


def test_agreement_dialog_shows_the_report(store, tmp_path, qtbot):
    from emotrace.gui.agreement_dialog import AgreementDialog

    agreement_store(store, tmp_path)
    dialog = AgreementDialog(store, "agree")
    qtbot.addWidget(dialog)
    summary = dialog.tabs.widget(0)
    assert summary.item(0, 0).text() == "arousal" and summary.item(0, 2).text().startswith("0.290 [")
    assert summary.item(1, 5).text() == "0.849"
    assert dialog.tabs.widget(2).rowCount() == 6
    dialog.split_box.setCurrentText("Test1")
    assert dialog.report["split"] == "Test1" and dialog.tabs.widget(0).item(0, 2).text().startswith("0.290")
