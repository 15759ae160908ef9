"""Issue 25, item 5: progress inside a file for transcribe, analyze and diarize: the rate (x real time) and time
left of the current file, computed from the job's progress messages with a fake clock, and the CLI's bars drawn
from them on a terminal and as sparse lines in a log."""

from __future__ import annotations

import io

from emotrace.cli.bars import FileBars
from emotrace.core.progress import FileClock, describe, in_file_message, position_in_file


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_message_written_for_a_position_reads_back_as_that_position():
    msg = in_file_message("talk one.flac", 444.4, 1200.0)
    assert msg == "talk one.flac 37% (7:24 of 20:00)"
    pos = position_in_file("podcasts (1/2 corpora): " + msg)  # analyze_everywhere's prefix
    assert (pos.name, pos.seconds, pos.duration, pos.percent) == ("talk one.flac", 444.0, 1200.0, 37)
    long = position_in_file(in_file_message("h.wav", 3700, 7200))
    assert (long.seconds, long.duration) == (3700.0, 7200.0)  # h:mm:ss past an hour
    for plain in ("talk.flac", "loading the model", "done", "loading v3", "a 10% (b"):
        assert position_in_file(plain) is None


def test_rate_and_time_left_from_the_files_start_not_the_models_loading():
    clock = FakeClock()
    files = FileClock(clock)
    assert files.update("loading the model") is None
    clock.now += 60  # a minute of loading is not the file's slowness
    assert files.update("talk.flac") is None  # the file starts
    clock.now += 0.2
    early = files.update(in_file_message("talk.flac", 1.0, 1200))
    assert early.rate is None and early.eta is None  # 0.2 s of wall time: too early to trust
    clock.now += 9.8  # 10 s after the file started, 29 s more audio than its first position
    first = files.update(in_file_message("talk.flac", 30, 1200))
    assert abs(first.rate - 29 / 9.8) < 1e-9 and abs(first.eta - 1170 / (29 / 9.8)) < 1e-6
    clock.now += 90.2  # 100 s after the first position, 300 s more audio: 3x real time
    est = files.update(in_file_message("talk.flac", 301, 1200))
    assert abs(est.elapsed - 100.2) < 1e-9 and abs(est.rate - 3.0) < 1e-9 and abs(est.eta - 899 / 3) < 1e-9
    assert describe(est) == "25% (5:01 of 20:00), 3.0x real time, 5:00 left"
    clock.now += 300
    done = files.update(in_file_message("talk.flac", 1200, 1200))
    assert done.eta == 0 and describe(done) == "100% (20:00 of 20:00), 3.0x real time"


def test_a_resumed_file_is_timed_from_its_first_position():
    """Transcription goes on after the last stored word: the 10 minutes done before are not this run's speed."""
    clock = FakeClock()
    files = FileClock(clock)
    files.update("talk.flac")
    clock.now += 5
    files.update(in_file_message("talk.flac", 610, 1200))
    clock.now += 10
    assert abs(files.update(in_file_message("talk.flac", 640, 1200)).rate - 3.0) < 1e-9


def test_a_file_first_seen_mid_way_counts_from_its_batchs_start():
    """Analysis works on a few files at once: only the first is named; the others' first word is a position."""
    clock = FakeClock()
    files = FileClock(clock)
    files.update("a.wav")  # the batch of a.wav and b.wav starts
    clock.now += 10
    assert abs(files.update(in_file_message("b.wav", 20, 60)).rate - 2.0) < 1e-9
    clock.now += 10
    b = files.update(in_file_message("b.wav", 30, 60))
    assert abs(b.rate - 1.0) < 1e-9 and abs(b.eta - 30.0) < 1e-9 and b.elapsed == 20
    assert files.update(in_file_message("c.wav", 60, 60)).rate == 3.0  # one position: since the step began


def test_a_terminal_shows_one_bar_per_file_with_rate_and_time_left():
    clock, out = FakeClock(), io.StringIO()
    bars = FileBars("analyze", stream=out, tty=True, clock=clock)
    bars(0, 2, "loading the model")
    clock.now += 30
    bars(0, 2, "a.wav")
    for s in (60, 120, 180):
        clock.now += 20
        bars(0, 2, in_file_message("a.wav", s, 240))
    assert out.getvalue().endswith("\ranalyze 1/2 a.wav |##################      | 75% (3:00 of 4:00), 3.0x real "
                                   "time, 0:20 left\x1b[K")
    clock.now += 20
    bars(1, 2, "b.wav")  # a.wav is finished (all of it): its bar stays on screen with its rate
    lines = out.getvalue().split("\n")
    assert lines[-2].endswith(f"analyze 1/2 a.wav |{'#' * 24}| 4:00 of 4:00 in 1:20 (3.0x real time)\x1b[K")
    assert lines[-1] == "\ranalyze: b.wav (1/2 done)\x1b[K"
    clock.now += 0.05
    bars(1, 2, in_file_message("b.wav", 0, 10))  # 50 ms after the last redraw: not drawn again
    assert out.getvalue().split("\n")[-1] == "\ranalyze: b.wav (1/2 done)\x1b[K"
    clock.now += 1
    bars(1, 2, in_file_message("b.wav", 5, 10))
    assert "analyze 2/2 b.wav |############            | 50% (0:05 of 0:10), 5.0x real time, 0:01 left" in out.getvalue()
    bars.close()  # the job failed or was cancelled here: b.wav stopped half way
    assert out.getvalue().endswith("\ranalyze 2/2 b.wav |############            | 0:05 of 0:10 in 0:01 (5.0x real "
                                   "time)\x1b[K\n")


def test_a_log_gets_sparse_plain_lines():
    """stderr to a file: no carriage returns or escapes, a line at most every 30 s, one per finished file."""
    clock, out = FakeClock(), io.StringIO()
    bars = FileBars("transcribe", stream=out, tty=False, clock=clock)
    bars(0, 2, "loading base")
    bars(0, 2, "long.flac")
    for s in range(10, 3601, 10):  # an hour of audio at 10x real time: 360 messages over 6 minutes
        clock.now += 1
        bars(0, 2, in_file_message("long.flac", s, 3600))
    bars(1, 2, "short.flac")
    bars(1, 2, in_file_message("short.flac", 30, 30))
    bars(2, 2, "done")
    bars.close()
    text = out.getvalue()
    assert "\r" not in text and "\x1b" not in text
    lines = text.splitlines()
    assert lines[0] == "transcribe: loading base (0/2 done)"
    assert 10 <= len(lines) <= 16, lines  # 6 minutes: about one line per 30 s, not 360
    assert any(line.startswith("transcribe 1/2 long.flac |") and "10.0x real time" in line and "left" in line
               for line in lines)
    assert lines[-2] == f"transcribe 1/2 long.flac |{'#' * 24}| 1:00:00 of 1:00:00 in 6:00 (10.0x real time)"
    assert lines[-1].startswith("transcribe 2/2 short.flac |") and " 0:30 of 0:30 in 0:00" in lines[-1]


def test_quiet_writes_nothing():
    out = io.StringIO()
    bars = FileBars("analyze", disable=True, stream=out, tty=True)
    bars(0, 1, in_file_message("a.wav", 1, 2))
    bars.close()
    assert out.getvalue() == ""


def test_files_are_numbered_within_each_corpus_of_a_catch_up():
    """`emotrace models activate` analyses corpus after corpus: the count starts again, and a batch's files (which
    share a done count) are numbered one by one."""
    clock, out = FakeClock(), io.StringIO()
    bars = FileBars("analyze", stream=out, tty=False, clock=clock)
    bars(0, 1, "loading v2")
    for corpus, names in (("a", ("x.wav", "y.wav")), ("b", ("z.wav", "w.wav"))):
        where = f"{corpus} (1/2 corpora)"
        bars(0, len(names), f"{where}: {names[0]}")
        for name in names:
            clock.now += 2
            bars(0, len(names), f"{where}: " + in_file_message(name, 10, 10))
        bars(len(names), len(names), f"{where}: done")
    bars.close()
    finished = [line.split(" |")[0] for line in out.getvalue().splitlines() if " of 0:10 in " in line]
    assert finished == ["analyze 1/2 x.wav", "analyze 2/2 y.wav", "analyze 1/2 z.wav", "analyze 2/2 w.wav"]
