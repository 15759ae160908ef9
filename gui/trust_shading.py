"""Shade the A/V/D lanes where the shown model's windows lie outside its training domain (issue 26).

A grey band behind the lines, one fill item per lane whatever the number of windows (merged runs of outside
windows, `FileData.outside`), so a 3-hour file costs the same few items as a short one. Grey, not a colour: the
lanes' colours are the dimensions' (Okabe-Ito), and a band is a second cue beside the count in the legend.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from emotrace.core.vocab import SCALE

BRUSH = (120, 120, 120, 60)


class TrustShading:
    def __init__(self, lanes: dict[str, pg.PlotItem]) -> None:
        self.items: dict[str, pg.PlotDataItem] = {}
        for dim, plot in lanes.items():
            item = pg.PlotDataItem(pen=None, fillLevel=SCALE.low, brush=BRUSH)
            item.setZValue(-10)
            item.setToolTip("Outside the model's training domain (trust indicator above 1): read with care")
            plot.addItem(item)
            self.items[dim] = item
        self.count: tuple[int, int] = (0, 0)

    def show(self, spans: np.ndarray, outside: int, known: int) -> None:
        """`spans` `[K, 2]`: each a rectangle from the bottom to the top of the lane."""
        self.count = (outside, known)
        x = np.repeat(np.asarray(spans, dtype=float).reshape(-1), 2)
        y = np.tile([SCALE.low, SCALE.high, SCALE.high, SCALE.low], len(spans)).astype(float)
        for item in self.items.values():
            item.setData(x, y)

    def legend(self) -> str | None:
        outside, known = self.count
        if not known:
            return None
        return f"<span style='color:#888'>▒</span> {outside} of {known} windows outside the training domain"
