"""Label placement for the PNG maps: greedy, collision-free, fast with thousands of sites.

Each label tries a fixed list of offsets around its point and takes the first whose box
(estimated from the font size and the number of characters, in pixels) overlaps no placed
label and no reserved marker and stays inside the axes; a label with no free offset is left
out and counted, so a map can say how many it could not name. Placed boxes are kept in a grid
of cells (a spatial hash), so a test looks only at the boxes near it: thousands of labels
take a fraction of a second, not the quadratic minutes of comparing every pair.
"""
from __future__ import annotations

from collections import defaultdict

Box = tuple[float, float, float, float]   # x0, y0, x1, y1 in display pixels

# Character width and line height as multiples of the font size (DejaVu Sans, generous, so
# estimated boxes are never smaller than the drawn text).
CHAR_WIDTH_EM = 0.62
LINE_HEIGHT_EM = 1.35
CELL_PX = 48.0


def _overlap(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


class BoxGrid:
    """Boxes in a grid of CELL_PX cells: ``free(box)`` looks only at boxes sharing a cell."""

    def __init__(self) -> None:
        self.cells: dict[tuple[int, int], list[Box]] = defaultdict(list)

    @staticmethod
    def _cells(box: Box):
        for i in range(int(box[0] // CELL_PX), int(box[2] // CELL_PX) + 1):
            for j in range(int(box[1] // CELL_PX), int(box[3] // CELL_PX) + 1):
                yield i, j

    def add(self, box: Box) -> None:
        for cell in self._cells(box):
            self.cells[cell].append(box)

    def free(self, box: Box) -> bool:
        return not any(_overlap(box, other) for cell in self._cells(box) for other in self.cells.get(cell, ()))


class LabelPlacer:
    """Places labels on one matplotlib axes without overlaps; ``skipped`` counts those left out."""

    # (dx, dy) of the label's anchor corner from the point, in points; far ones get a leader line.
    OFFSETS_PT = tuple(
        (dx, dy, "left" if dx > 0 else "right")
        for dy in (3, -14, 12, -24, 24, -36, 38, -50, 54, -66)
        for dx in (9, -9, 26, -26, 44, -44)
    )

    def __init__(self, ax) -> None:
        self.ax = ax
        self.grid = BoxGrid()
        self.px_per_pt = ax.figure.dpi / 72.0
        self.frame = ax.bbox.extents
        self.skipped = 0
        self.placed = 0

    def reserve(self, lon: float, lat: float, radius_px: float) -> None:
        """Keep labels off a marker at (lon, lat)."""
        x, y = self.ax.transData.transform((lon, lat))
        self.grid.add((x - radius_px, y - radius_px, x + radius_px, y + radius_px))

    def reserve_box(self, box: Box) -> None:
        """Keep labels off a box (display pixels)."""
        self.grid.add(box)

    def candidates(self, x: float, y: float, text: str, size_pt: float):
        """(dx_pt, dy_pt, ha, box) for each offset, in order of preference."""
        lines = text.split("\n")
        width = CHAR_WIDTH_EM * size_pt * max(len(line) for line in lines) * self.px_per_pt + 4
        height = LINE_HEIGHT_EM * size_pt * len(lines) * self.px_per_pt + 2
        for dx_pt, dy_pt, ha in self.OFFSETS_PT:
            x0 = x + dx_pt * self.px_per_pt - (width if ha == "right" else 0.0)
            y0 = y + dy_pt * self.px_per_pt - 1
            yield dx_pt, dy_pt, ha, (x0, y0, x0 + width, y0 + height)

    def add(self, lon: float, lat: float, text: str, size_pt: float, **style) -> bool:
        """Draw ``text`` by the point at the first free offset; False (and counted) when none is free.
        ``style``: matplotlib text properties (a ``zorder`` other than 8 included)."""
        x, y = self.ax.transData.transform((lon, lat))
        f = self.frame
        if not (f[0] <= x <= f[2] and f[1] <= y <= f[3]):
            return False   # outside the view: not a label this axes owes
        for dx_pt, dy_pt, ha, box in self.candidates(x, y, text, size_pt):
            inside = f[0] <= box[0] and box[2] <= f[2] and f[1] <= box[1] and box[3] <= f[3]
            if inside and self.grid.free(box):
                self.grid.add(box)
                self.placed += 1
                far = abs(dy_pt) > 14 or abs(dx_pt) > 9
                leader = {"arrowstyle": "-", "color": "#555555", "lw": 0.7} if far else None
                self.ax.annotate(text, (lon, lat), xytext=(dx_pt, dy_pt), textcoords="offset points", ha=ha,
                                 va="bottom", fontsize=size_pt, arrowprops=leader, **({"zorder": 8} | style))
                return True
        self.skipped += 1
        return False
