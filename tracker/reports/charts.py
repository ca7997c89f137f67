"""Geometry of the server-side SVG charts; templates/reports/_charts.html draws them.

No script, no style attribute, nothing fetched: colours are SVG presentation attributes (allowed by
the CSP and kept in print), and the second line of a line chart is dashed so that it still reads in
black and white. The page shows the same numbers as a table.
"""
from __future__ import annotations

from dataclasses import dataclass, field

INK, MUTED, GRID = "#1d1d1f", "#5f6368", "#d9dce1"
BLUE, RED, GREEN = "#0b57d0", "#b3261e", "#1e8e3e"


@dataclass
class Bar:
    label: str
    value: float          # 0..100 (a percentage)
    note: str = ""        # printed after the bar, e.g. "3 overdue"
    alert: bool = False   # the note is printed in red
    short: str = ""
    y: float = 0.0
    length: float = 0.0


@dataclass
class BarChart:
    bars: list[Bar]
    width: int
    height: int
    label_w: int
    bar_w: int
    row_h: int
    top: int
    scale: list[tuple[float, int]]  # (x, percent) of the grid lines


def bar_chart(bars: list[Bar]) -> BarChart:
    """Horizontal percentage bars, one per row, labelled on the left, value and note on the right."""
    label_w, bar_w, note_w, row_h, top = 150, 360, 170, 24, 8
    for n, bar in enumerate(bars):
        bar.short = bar.label if len(bar.label) <= 11 else bar.label[:10] + "…"
        bar.y = top + n * row_h
        bar.length = bar_w * max(0.0, min(bar.value, 100.0)) / 100
    return BarChart(bars, label_w + bar_w + note_w, top * 2 + row_h * max(len(bars), 1) + 16,
                    label_w, bar_w, row_h, top, [(label_w + bar_w * pct / 100, pct) for pct in (0, 50, 100)])


@dataclass
class Series:
    name: str
    values: list[int]
    colour: str
    dashed: bool = False
    points: list[tuple[float, float, int]] = field(default_factory=list)  # (x, y, value)


@dataclass
class LineChart:
    series: list[Series]
    labels: list[tuple[float, str, bool]]  # (x, label, shown under the axis)
    ticks: list[tuple[float, int]]          # (y, value) of the grid lines
    width: int
    height: int
    left: int
    right: int
    legend_y: int


def line_chart(labels: list[str], series: list[Series]) -> LineChart:
    """Lines over equally spaced points (e.g. weeks), with a y axis from 0 and a legend below."""
    left, right, top, plot_h, width = 36, 24, 10, 180, 640  # room for the last label, centred on its point
    plot_w = width - left - right
    peak = max([v for s in series for v in s.values] + [1])
    step_y = max(1, -(-peak // 4))  # four grid lines, whole numbers
    y_max = step_y * 4
    count = max(len(labels), 2)

    def x(i: int) -> float:
        return left + plot_w * i / (count - 1)

    def y(v: float) -> float:
        return top + plot_h - plot_h * v / y_max

    for s in series:
        s.points = [(x(i), y(v), v) for i, v in enumerate(s.values)]
    last = (len(labels) - 1) % 2  # every other week is labelled, always the current one
    return LineChart(series, [(x(i), label, i % 2 == last) for i, label in enumerate(labels)],
                     [(y(tick), tick) for tick in range(0, y_max + 1, step_y)],
                     width, top + plot_h + 60, left, right, top + plot_h + 40)
