"""Why the desktop app cannot start, in one line, before Qt is imported: without the `gui` extra, without a
display, or without the X11 libraries Qt's xcb plugin needs (Qt itself then aborts with SIGABRT after a wall of
plugin noise). Imports no Qt, so `emotrace gui` can ask it first."""

from __future__ import annotations

import ctypes.util
import importlib.util
import os
import sys

# Qt 6's xcb platform plugin needs these beyond a plain X11 client; a minimal desktop or container lacks them.
XCB_LIBRARIES = {"xcb-cursor": "libxcb-cursor0", "xcb-icccm": "libxcb-icccm4", "xcb-keysyms": "libxcb-keysyms1",
                 "xkbcommon-x11": "libxkbcommon-x11-0"}


def gui_problem(environ: dict[str, str] | None = None) -> str | None:
    """None when the app can start; else the one line that says what to install or set."""
    env = os.environ if environ is None else environ
    for module in ("PySide6", "pyqtgraph"):
        if importlib.util.find_spec(module) is None:
            return f"the desktop app needs the gui extra ({module} is not installed): pip install 'emotrace[gui]'"
    platform = env.get("QT_QPA_PLATFORM", "")
    if platform.split(":")[0] in ("offscreen", "minimal", "vnc", "wayland", "eglfs", "linuxfb", "cocoa", "windows"):
        return None
    if not sys.platform.startswith("linux"):
        return None
    if not env.get("DISPLAY") and not env.get("WAYLAND_DISPLAY"):
        return "no display to open the app on (DISPLAY and WAYLAND_DISPLAY are unset); run it in a desktop session"
    if not env.get("DISPLAY"):
        return None  # Wayland: Qt picks its wayland plugin
    missing = [deb for lib, deb in XCB_LIBRARIES.items() if ctypes.util.find_library(lib) is None]
    if missing:
        return ("Qt's X11 plugin needs libraries this system lacks; install them with: "
                f"sudo apt-get install -y {' '.join(missing)}")
    return None
