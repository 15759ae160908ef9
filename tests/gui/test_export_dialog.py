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
