"""The export dialog writes every format it offers (the formats themselves: tests/unit/test_formats.py)."""

from __future__ import annotations


def test_export_dialog_writes_every_format(populated, tmp_path, qtbot):
    from emotrace.gui.export_dialog import FORMATS, ExportDialog

    store, _file_id, _mv = populated
    dialog = ExportDialog(store, "c")
    qtbot.addWidget(dialog)
    for i, (_label, kind, name) in enumerate(FORMATS):
        dialog.format.setCurrentIndex(i)
        dialog.destination.setText(str(tmp_path / "out" / name))
        if kind == "file":
            (tmp_path / "out").mkdir(exist_ok=True)
        dialog.export()
        assert dialog.result.text().startswith("Wrote"), FORMATS[i]
        assert (tmp_path / "out" / name).exists()


def test_export_destination_is_remembered_never_the_source_folder_and_survives_a_format_change(
        populated, tmp_path, qtbot, qt_settings):
    """Issue 24, item 8: the dialog defaulted beside the corpus's source audio and reset the folder whenever
    the format changed."""
    from pathlib import Path

    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QDialogButtonBox

    from emotrace.gui.export_dialog import ExportDialog

    store, _file_id, _mv = populated
    root = Path(store.corpora.corpus("c").root)
    dialog = ExportDialog(store, "c")
    qtbot.addWidget(dialog)
    assert not Path(dialog.destination.text()).is_relative_to(root.parent)  # not into the source folder
    chosen = tmp_path / "my exports"
    chosen.mkdir()
    dialog.destination.setText(str(chosen / "mine.csv"))
    dialog.format.setCurrentIndex(3)  # ELAN: the same folder, that format's name
    assert Path(dialog.destination.text()).parent == chosen
    qtbot.mouseClick(dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok),
                     Qt.MouseButton.LeftButton)
    assert dialog.result.text().startswith("Wrote")
    again = ExportDialog(store, "c")  # the next export starts where the last one went
    qtbot.addWidget(again)
    assert Path(again.destination.text()).parent == chosen
