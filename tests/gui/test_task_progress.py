"""Issue 24, item 8: the task bar moves inside one long file (it sat at 0% until the file was done)."""

from __future__ import annotations

import threading


def test_the_task_bar_follows_progress_inside_one_file(qtbot):
    from emotrace.gui.tasks import TaskRow, TasksPanel

    panel = TasksPanel()
    qtbot.addWidget(panel)
    go_on = threading.Event()

    def analyse(progress, _cancel):  # the messages analyze_corpus sends for one 20-minute file
        progress(0, 1, "talk.flac")
        progress(0, 1, "talk.flac 37% (7:24 of 20:00)")
        go_on.wait(5)
        progress(1, 1, "done")

    task = panel.start("Analyze", analyse)
    row = panel.findChild(TaskRow)
    qtbot.waitUntil(lambda: "37%" in row.label.text())
    assert 0 < row.bar.value() / row.bar.maximum() < 1 and round(100 * row.bar.value() / row.bar.maximum()) == 37
    go_on.set()
    qtbot.waitUntil(lambda: task.isFinished())
