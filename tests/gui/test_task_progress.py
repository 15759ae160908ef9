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


def test_the_jobs_dock_shows_rate_and_time_left_inside_a_file(qtbot):
    """Issue 25, item 5: a 20-minute file sat at "0%" for over a minute. The dock now shows a busy bar and the
    seconds waited while the model loads, then the file's percent, rate and time left (counting down between
    messages), from the messages the workflows send."""
    from emotrace.core.progress import in_file_message
    from emotrace.gui.tasks import TaskRow, TasksPanel

    now = [1000.0]
    panel = TasksPanel(clock=lambda: now[0])
    qtbot.addWidget(panel)
    messages = [(0, 2, "talk.flac"), (0, 2, in_file_message("talk.flac", 30, 1200)),
                (0, 2, in_file_message("talk.flac", 330, 1200)), (1, 2, "short.flac"), None]
    steps = [threading.Event() for _ in messages]

    def analyse(progress, _cancel):
        progress(0, 2, "loading the model")
        for step, message in zip(steps, messages):
            step.wait(5)
            if message:
                progress(*message)

    task = panel.start("Analyze c", analyse)
    row = panel.findChild(TaskRow)
    qtbot.waitUntil(lambda: "loading the model" in row.label.text())
    assert row.bar.maximum() == 0  # busy, not a bar stuck at 0%
    now[0] += 65
    row.ticker.timeout.emit()
    assert row.label.text() == "Analyze c: loading the model (1:05) [0/2 files done]"
    steps[0].set()  # the file starts; its first piece after 10 s: 30 s of audio, 3x real time
    qtbot.waitUntil(lambda: "talk.flac" in row.label.text())
    now[0] += 10
    steps[1].set()
    qtbot.waitUntil(lambda: "talk.flac 2%" in row.label.text())
    assert row.label.text() == "Analyze c: talk.flac 2% (0:30 of 20:00), 3.0x real time, 6:30 left [0/2 files done]"
    assert row.bar.maximum() == 200 and row.bar.value() == 2
    now[0] += 100  # 300 s more audio in 100 s
    steps[2].set()
    qtbot.waitUntil(lambda: "28%" in row.label.text())
    assert row.label.text() == "Analyze c: talk.flac 28% (5:30 of 20:00), 3.0x real time, 4:50 left [0/2 files done]"
    assert row.bar.value() == 28
    now[0] += 50
    row.ticker.timeout.emit()  # no message for 50 s: the time left counts down
    assert "3.0x real time, 4:00 left" in row.label.text()
    steps[3].set()
    qtbot.waitUntil(lambda: "short.flac" in row.label.text())
    assert row.bar.maximum() == 200 and row.bar.value() == 100  # one file of two done
    steps[4].set()
    qtbot.waitUntil(lambda: task.isFinished())
    qtbot.waitUntil(lambda: row.label.text() == "Analyze c: done")
    assert not row.ticker.isActive()
