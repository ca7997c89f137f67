"""Server-side SVG charts: no script, no style attribute, nothing fetched from the internet.

Colours are SVG presentation attributes (allowed by the CSP and kept in print); the second line
of a line chart is dashed so that the chart still reads in black and white. Every chart has a
title and a description for screen readers, and the page shows the same numbers as a table.
"""
from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup, escape

INK, MUTED, GRID = "#1d1d1f", "#5f6368", "#d9dce1"
BLUE, RED, GREEN = "#0b57d0", "#b3261e", "#1e8e3e"


def _svg(width: int, height: int, title: str, desc: str, body: list[str], css_class: str) -> Markup:
    return Markup(
        f'<svg class="chart {css_class}" viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg" font-size="12" '
        f'font-family="sans-serif"><title>{escape(title)}</title><desc>{escape(desc)}</desc>'
        + "".join(body) + "</svg>")


def _text(x: float, y: float, text: str, anchor: str = "start", fill: str = INK, extra: str = "") -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" fill="{fill}"{extra}>'
            f"{escape(text)}</text>")


@dataclass
class Bar:
    label: str
    value: float          # 0..100 (a percentage)
    note: str = ""        # printed after the bar, e.g. "3 overdue"
    alert: bool = False   # the note is printed in red


def bar_chart(bars: list[Bar], title: str, desc: str) -> Markup:
    """Horizontal percentage bars, one per row, labelled on the left, value and note on the right."""
    label_w, bar_w, note_w, row_h, top = 150, 360, 170, 24, 8
    width = label_w + bar_w + note_w
    height = top * 2 + row_h * max(len(bars), 1) + 16
    body = []
    for pct in (0, 50, 100):  # a scale under the bars
        x = label_w + bar_w * pct / 100
        body.append(f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{height - 16}" stroke="{GRID}"/>')
        body.append(_text(x, height - 4, f"{pct}%", "middle", MUTED))
    for n, bar in enumerate(bars):
        y = top + n * row_h
        label = bar.label if len(bar.label) <= 11 else bar.label[:10] + "…"
        body.append(_text(label_w - 6, y + 16, label, "end"))
        length = bar_w * max(0.0, min(bar.value, 100.0)) / 100
        body.append(f'<rect x="{label_w}" y="{y + 4}" width="{length:.1f}" height="{row_h - 8}" fill="{BLUE}">'
                    f"<title>{escape(bar.label)}: {bar.value:.0f}%</title></rect>")
        body.append(_text(label_w + length + 4, y + 16, f"{bar.value:.0f}%"))
        if bar.note:
            body.append(_text(label_w + bar_w + 40, y + 16, bar.note, fill=RED if bar.alert else MUTED))
    return _svg(width, height, title, desc, body, "bar-chart")


@dataclass
class Series:
    name: str
    values: list[int]
    colour: str
    dashed: bool = False


def line_chart(labels: list[str], series: list[Series], title: str, desc: str) -> Markup:
    """Lines over equally spaced points (e.g. weeks), with a y axis from 0 and a legend below."""
    left, right, top, plot_h, width = 36, 12, 10, 180, 640
    plot_w = width - left - right
    height = top + plot_h + 60
    peak = max([v for s in series for v in s.values] + [1])
    step_y = max(1, -(-peak // 4))  # four grid lines, whole numbers
    y_max = step_y * 4
    count = max(len(labels), 2)

    def x(i: int) -> float:
        return left + plot_w * i / (count - 1)

    def y(v: float) -> float:
        return top + plot_h - plot_h * v / y_max

    body = []
    for tick in range(0, y_max + 1, step_y):
        body.append(f'<line x1="{left}" y1="{y(tick):.1f}" x2="{width - right}" y2="{y(tick):.1f}" stroke="{GRID}"/>')
        body.append(_text(left - 6, y(tick) + 4, str(tick), "end", MUTED))
    for i, label in enumerate(labels):
        if i % 2 == (len(labels) - 1) % 2:  # every other week, always the current one
            body.append(_text(x(i), top + plot_h + 16, label, "middle", MUTED))
    for s in series:
        points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(s.values))
        dash = ' stroke-dasharray="6 4"' if s.dashed else ""
        body.append(f'<polyline points="{points}" fill="none" stroke="{s.colour}" stroke-width="2"{dash}/>')
        for i, v in enumerate(s.values):
            body.append(f'<circle cx="{x(i):.1f}" cy="{y(v):.1f}" r="3" fill="{s.colour}">'
                        f"<title>{escape(s.name)} {escape(labels[i])}: {v}</title></circle>")
    legend_y = top + plot_h + 40
    for n, s in enumerate(series):
        lx = left + n * 200
        dash = ' stroke-dasharray="6 4"' if s.dashed else ""
        body.append(f'<line x1="{lx}" y1="{legend_y - 4}" x2="{lx + 24}" y2="{legend_y - 4}" '
                    f'stroke="{s.colour}" stroke-width="2"{dash}/>')
        body.append(_text(lx + 30, legend_y, s.name))
    return _svg(width, height, title, desc, body, "line-chart")
