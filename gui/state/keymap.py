"""The app's keyboard shortcuts, written once (issue 22): every action with its keys, what it does, its section.

The window builds its QShortcuts and QActions from this table (no key string in the widget code), the Help
sheet (Help > Keyboard shortcuts, F1) is drawn from it, and the README's keys table is generated from it:

    python -m emotrace.gui.state.keymap --markdown          # the table, for README.md
    python -m emotrace.gui.state.keymap --write-readme README.md   # replace the block between the markers

Keys are Qt's portable key-sequence strings ("Ctrl+Shift+Z": Cmd on macOS). A key belongs to one action only
(Qt fires neither of two shortcuts that share a key). Single keys act when no text field has the focus. Qt-free
on purpose (an import-linter contract keeps emotrace.gui.state free of Qt), so scripts and tests read it too.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Binding:
    """One action of the app and the keys that trigger it."""

    id: str  # the name the window binds its handler to
    keys: tuple[str, ...]  # Qt portable key sequences, each triggers the action
    description: str  # may name another action's keys as {action_id}
    group: str
    label: str = ""  # how the sheet writes the keys, where " / ".join(keys) reads badly ("1-7")

    @property
    def key_text(self) -> str:
        return self.label or " / ".join(self.keys)

    @property
    def text(self) -> str:
        """The description with the keys it mentions filled in from the keymap."""
        return _fill(self.description)


@dataclass(frozen=True)
class Gesture:
    """A mouse gesture the sheet lists beside the keys (nothing is bound from it)."""

    gesture: str
    description: str  # may name an action's keys as {action_id}

    @property
    def text(self) -> str:
        return _fill(self.description)


GROUPS = ("Playback", "Moving around", "Segments", "Labels", "Tracing", "Edit", "File and help")

KEYMAP: tuple[Binding, ...] = (
    Binding("play_pause", ("Space",), "play / pause (plays the drag-selected range when the playhead is in it)",
            "Playback"),
    Binding("play_segment", ("S",), "play the selected segment", "Playback"),
    Binding("loop", ("L",), "loop on / off: {play_pause} and {play_segment} then repeat the selection or segment",
            "Playback"),
    Binding("next_segment", ("N",), "next segment after the playhead", "Moving around"),
    Binding("previous_segment", ("P",), "previous segment before the playhead", "Moving around"),
    Binding("down", ("Down",), "next segment (in the file list: next file; while tracing: lower the value by one "
            "step)", "Moving around"),
    Binding("up", ("Up",), "previous segment (in the file list: previous file; while tracing: raise the value by one "
            "step)", "Moving around"),
    Binding("to_start", ("Home",), "playhead to the start of the file", "Moving around"),
    Binding("to_end", ("End",), "playhead to the end of the file", "Moving around"),
    Binding("pan_left", ("Left",), "scroll the view back by half its width", "Moving around"),
    Binding("pan_right", ("Right",), "scroll the view on by half its width", "Moving around"),
    Binding("zoom_in", ("+", "="), "zoom in about the playhead", "Moving around"),
    Binding("zoom_out", ("-",), "zoom out about the playhead", "Moving around"),
    Binding("zoom_selection", ("Z",), "zoom to the drag-selected range (or the selected segment)", "Moving around"),
    Binding("whole_file", ("0",), "show the whole file", "Moving around"),
    Binding("create_segment", ("C",), "make the drag-selected range a new segment", "Segments"),
    Binding("split_segment", ("X",), "split the selected segment at the playhead", "Segments"),
    Binding("merge_segment", ("M",), "merge the selected segment with the next one", "Segments"),
    Binding("segment_start", ("I",), "set the selected segment's start to the playhead (or drag its edge)",
            "Segments"),
    Binding("segment_end", ("O",), "set the selected segment's end to the playhead (or drag its edge)", "Segments"),
    Binding("correct_word", ("F2",), "correct the word under the playhead (or double-click a word in the "
            "transcript)", "Segments"),
    Binding("set_value", tuple(str(d) for d in range(1, 8)),
            "set the focused dimension's value (while tracing: the traced value)", "Labels", label="1-7"),
    Binding("previous_dimension", ("[",), "focus the previous dimension (stops at arousal; each segment starts "
            "there)", "Labels"),
    Binding("next_dimension", ("]",), "focus the next dimension (stops at dominance)", "Labels"),
    Binding("accept_prediction", ("A",), "accept the model's prediction for the dimensions you have not set (saved "
            "as accepted, kept apart from human labels)", "Labels"),
    Binding("save_and_next", ("Return", "Enter"), "save what you set and go to the next segment (the next file after "
            "the last one); dimensions you left at the model's value are saved as accepted, and nothing is saved "
            "when you set nothing", "Labels", label="Enter"),
    Binding("next_review", ("R",), "next item of the review queue", "Labels"),
    Binding("trace", ("T",), "start / stop tracing the chosen dimension while the audio plays (mouse height in its "
            "lane, {up} / {down} or {set_value} set the value)", "Tracing"),
    Binding("undo", ("Ctrl+Z",), "undo a label or a segment edit (each step is new rows; nothing is erased)",
            "Edit"),
    Binding("redo", ("Ctrl+Shift+Z",), "redo what was undone", "Edit"),
    Binding("undo_speakers", ("Ctrl+Alt+Z",), "undo the last speaker correction", "Edit"),
    Binding("export_labels", ("Ctrl+E",), "export the corpus's labels", "File and help"),
    Binding("quit", ("Ctrl+Q",), "quit", "File and help"),
    Binding("shortcuts", ("F1",), "this sheet of shortcuts", "File and help"),
)

GESTURES: tuple[Gesture, ...] = (
    Gesture("drag on the waveform", "select a time range ({zoom_selection} zooms to it, {loop} loops it, {play_pause} plays "
            "it)"),
    Gesture("drag a segment's edge", "move its start or end"),
    Gesture("double-click a word", "correct it"),
)

NOTE = "Single keys act when no text field has the focus."

_BY_ID = {b.id: b for b in KEYMAP}


def _fill(description: str) -> str:
    return description.format_map({action_id: b.key_text for action_id, b in _BY_ID.items()})


def binding(action_id: str) -> Binding:
    """The binding of one action; a KeyError names an action the keymap does not have."""
    try:
        return _BY_ID[action_id]
    except KeyError:
        raise KeyError(f"no action {action_id!r} in the keymap") from None


def keys(action_id: str) -> tuple[str, ...]:
    return binding(action_id).keys


def key_text(action_id: str) -> str:
    """How an action's keys read in a message or a tooltip ("Ctrl+Z", "N", "1-7"): a message never spells a key."""
    return binding(action_id).key_text


def rows() -> list[tuple[str, str, str]]:
    """(section, keys, description) in the order the sheet and the README show them: by group, then gestures."""
    out = [(group, b.key_text, b.text) for group in GROUPS for b in KEYMAP if b.group == group]
    out += [("Mouse", g.gesture, g.text) for g in GESTURES]
    return out


def markdown() -> str:
    """The README's keys table (the block between `<!-- keymap:start -->` and `<!-- keymap:end -->`)."""
    lines = ["| section | key | action |", "|---|---|---|"]
    for section, key_text, description in rows():
        lines.append(f"| {section} | {_md(key_text)} | {_md(description)} |")
    return "\n".join(lines) + "\n\n" + NOTE + "\n"


def _md(text: str) -> str:
    return text.replace("|", "\\|")


START, END = "<!-- keymap:start -->", "<!-- keymap:end -->"


def readme_block(text: str) -> str:
    """What lies between the markers in a README's text (ValueError when the markers are missing)."""
    start, end = text.find(START), text.find(END)
    if start < 0 or end < start:
        raise ValueError(f"the README has no {START} ... {END} block")
    return text[start + len(START):end].strip("\n") + "\n"


def with_readme_block(text: str) -> str:
    """The README's text with the block between the markers replaced by `markdown()`."""
    readme_block(text)  # the markers must be there
    start, end = text.find(START) + len(START), text.find(END)
    return text[:start] + "\n" + markdown() + text[end:]


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["--markdown"]:
        sys.stdout.write(markdown())
        return 0
    if args[:1] == ["--write-readme"] and len(args) == 2:
        path = Path(args[1])
        path.write_text(with_readme_block(path.read_text(encoding="utf-8")), encoding="utf-8")
        return 0
    print("usage: python -m emotrace.gui.state.keymap --markdown | --write-readme README.md", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
