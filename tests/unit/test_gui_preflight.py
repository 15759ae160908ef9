"""`emotrace gui` says in one line why the app cannot start, before Qt is imported (no gui extra, no display,
missing X11 libraries), instead of an internal error or Qt's SIGABRT."""

from __future__ import annotations

from emotrace.gui.preflight import gui_problem


def test_offscreen_and_a_display_with_libraries_pass():
    assert gui_problem({"QT_QPA_PLATFORM": "offscreen"}) is None
    assert gui_problem({}) is not None


def test_missing_pyside6_names_the_extra(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "PySide6" else real(name, *a))
    assert "pip install 'emotrace[gui]'" in gui_problem({"QT_QPA_PLATFORM": "offscreen"})


def test_missing_xcb_libraries_give_the_apt_line(monkeypatch):
    import ctypes.util

    monkeypatch.setattr(ctypes.util, "find_library", lambda name: None if name == "xcb-cursor" else f"lib{name}.so")
    assert gui_problem({"DISPLAY": ":99"}).endswith("sudo apt-get install -y libxcb-cursor0")
