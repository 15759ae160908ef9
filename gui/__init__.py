"""EmoTrace's desktop app: PySide6 + pyqtgraph views over `core` and `training`; holds no data of its own."""
