"""A horizontal bar chart as SVG geometry, drawn on the server (no script, no external asset):
the template writes the shapes, the page's table holds the same numbers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

WIDTH = 400  # the viewBox's width; the picture scales to the screen (at most 32rem)
LABEL_HEIGHT = 18
BAR_HEIGHT = 16
GAP = 10
BAR_SPACE = 320  # the longest bar; the rest of the width holds its figure
MOST = 20  # bars drawn; the table lists every group


@dataclass(frozen=True)
class Bar:
    label: str
    figure: str
    label_y: int
    bar_y: int
    width: float
    figure_x: float


@dataclass(frozen=True)
class Chart:
    bars: list[Bar]
    height: int
    width: int
    left_out: int  # groups beyond MOST (or with nothing counted) not drawn


def bar_chart(points: Sequence[tuple[str, float | None]]) -> Chart:
    """Bars for ``points`` (label, value) in the given order; a None value is not drawn."""
    drawn = [(label, value) for label, value in points if value is not None][:MOST]
    largest = max((value for _, value in drawn), default=0.0)
    bars = []
    y = GAP
    for label, value in drawn:
        width = 0.0 if largest <= 0 else round(value / largest * BAR_SPACE, 1)
        shown = label if len(label) <= 48 else label[:47] + "…"
        bars.append(
            Bar(shown, f"{value:g}", y + LABEL_HEIGHT - 5, y + LABEL_HEIGHT, max(width, 1.0),
                max(width, 1.0) + 6)
        )  # fmt: skip
        y += LABEL_HEIGHT + BAR_HEIGHT + GAP
    return Chart(bars, max(y, GAP * 2), WIDTH, len(points) - len(drawn))
