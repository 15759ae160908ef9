"""gui/state/view_state.py without Qt: the rules the views rely on (N/P from the playhead, view follows playback)."""

import pytest

from emotrace.core.timecode import format_time
from emotrace.gui.state.view_state import TimeState, ViewState, step_segment


def test_format_time_reads_like_elan():
    assert format_time(0) == "0:00.000"
    assert format_time(83.4567) == "1:23.457"
    assert format_time(3 * 3600 + 5 * 60 + 7.25) == "3:05:07.250"
    assert format_time(3600, 0) == "1:00:00"


def test_step_segment_counts_from_the_playhead():
    starts = [0.0, 10.0, 30.0]
    assert step_segment(starts, 25.0, +1) == 2  # after a seek into a gap: the next one from here
    assert step_segment(starts, 10.0, +1) == 2  # at a segment's start: the one after it
    assert step_segment(starts, 15.0, -1) == 1  # mid-segment: its own start first
    assert step_segment(starts, 10.0, -1) == 0
    assert step_segment(starts, 30.0, +1) is None  # past the last: the caller decides (next file)
    assert step_segment(starts, 0.0, -1) is None
    assert step_segment([], 3.0, +1) is None


class Recorder:
    def __init__(self):
        self.states: list[TimeState] = []

    def show_time(self, state: TimeState) -> None:
        self.states.append(state)


def test_time_views_get_every_change_through_one_method():
    s = ViewState()
    view = Recorder()
    s.add_time_view(view)
    s.open_file(1, 600.0)
    s.set_view(10, 40)
    s.set_view(10, 40)  # no change, no call
    s.set_playhead(20.0)
    assert [st.view for st in view.states[-2:]] == [(10.0, 40.0), (10.0, 40.0)]
    assert view.states[-1].playhead == 20.0 and len(view.states) == 4
    with pytest.raises(TypeError):
        s.add_time_view(object())


def test_view_follows_the_playhead_and_stays_in_the_file():
    s = ViewState()
    s.open_file(1, 100.0)
    assert s.view == (0.0, 30.0)
    s.set_playhead(31.0, playing=True)  # playback leaves the view: it pages along
    lo, hi = s.view
    assert lo <= 31.0 <= hi and hi - lo == pytest.approx(30.0)
    s.follow_playhead = False
    s.set_playhead(90.0, playing=True)
    assert s.view == (lo, hi)
    s.set_view(-20, 10)
    assert s.view == (0.0, 30.0)  # clamped, width kept
    s.set_view(0, 500)
    assert s.view == (0.0, 100.0)
    s.zoom(0.5, center=50.0)
    assert s.view == pytest.approx((25.0, 75.0))


def test_events_fire_on_real_changes_only():
    s = ViewState()
    seen = []
    s.selection_changed.connect(seen.append)
    s.models_changed.connect(seen.append)
    s.select(2)
    s.select(2)
    s.set_shown_models([3, 3, 1])
    s.set_shown_models([3, 1])
    assert seen == [2, [3, 1]]
