"""Server-side SVG charts for the reports page: plain SVG elements and attributes (allowed by the strict CSP),
styled by classes in static/reports.css, every label escaped. No JavaScript."""
from __future__ import annotations

import math

from markupsafe import Markup, escape

PALETTE = ("#2457d6", "#0f9d8a", "#e07b00", "#8e44ad", "#c62828", "#5f6b7a")
WIDTH = 640
HEIGHT = 240
LEFT, RIGHT, TOP, BOTTOM = 48, 16, 28, 40


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def nice_ticks(low: float, high: float, count: int = 4) -> list[float]:
    """Round tick values covering [low, high]."""
    if high <= low:
        high = low + 1
    raw = (high - low) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    start = math.floor(low / step) * step
    ticks = []
    value = start
    while value < high + step * 0.999:
        ticks.append(round(value, 6))
        value += step
    return ticks


def _frame(title: str, body: list[str], legend: list[tuple[str, str]] | None = None, height: int = HEIGHT) -> Markup:
    parts = [f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img" aria-label="{escape(title)}" '
             f'xmlns="http://www.w3.org/2000/svg">', f"<title>{escape(title)}</title>"]
    x = LEFT
    for label, colour in legend or []:
        parts.append(f'<rect x="{x}" y="8" width="10" height="10" rx="2" fill="{colour}"/>')
        parts.append(f'<text class="chart-legend" x="{x + 14}" y="17">{escape(label)}</text>')
        x += 22 + 7 * len(label)
    parts.extend(body)
    parts.append("</svg>")
    # The title shows above the chart (not only as a tooltip); the image itself is labelled with it already.
    return Markup(f'<p class="chart-caption" aria-hidden="true">{escape(title)}</p>' + "".join(parts))


def _y_axis(ticks: list[float], y_of, unit: str) -> list[str]:
    out = []
    for tick in ticks:
        y = y_of(tick)
        out.append(f'<line class="chart-grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>')
        out.append(f'<text class="chart-tick" x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">'
                   f'{escape(_num(tick))}{escape(unit)}</text>')
    return out


def line_chart(title: str, labels: list[str], series: list[tuple[str, list[float | None]]], unit: str = "",
               y_min: float | None = None, y_max: float | None = None, empty: str = "No data in this range") -> Markup:
    """One line per series over the x labels (e.g. days); None values leave a gap. Points are dots with a
    <title> tooltip so single days still show."""
    values = [v for _, points in series for v in points if v is not None]
    if not values or not labels:
        return _frame(title, [f'<text class="chart-empty" x="{WIDTH / 2}" y="{HEIGHT / 2}" text-anchor="middle">'
                              f'{escape(empty)}</text>'])
    low = min(values) if y_min is None else y_min
    high = max(values) if y_max is None else y_max
    ticks = nice_ticks(min(low, 0) if y_min is None and low > 0 else low, high)
    low, high = ticks[0], ticks[-1]
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x_of(i: int) -> float:
        return LEFT + (plot_w * (i + 0.5) / len(labels))

    def y_of(v: float) -> float:
        return TOP + plot_h * (1 - (v - low) / ((high - low) or 1))

    body = _y_axis(ticks, y_of, unit)
    every = max(1, math.ceil(len(labels) / 8))
    for i, label in enumerate(labels):
        if i % every == 0 or i == len(labels) - 1 and len(labels) <= 8:
            body.append(f'<text class="chart-tick" x="{x_of(i):.1f}" y="{HEIGHT - BOTTOM + 16}" '
                        f'text-anchor="middle">{escape(label)}</text>')
    for n, (name, points) in enumerate(series):
        colour = PALETTE[n % len(PALETTE)]
        segment: list[str] = []
        segments = []
        for i, value in enumerate(points):
            if value is None:
                if segment:
                    segments.append(segment)
                segment = []
                continue
            segment.append(f"{x_of(i):.1f},{y_of(value):.1f}")
        if segment:
            segments.append(segment)
        for seg in segments:
            if len(seg) > 1:
                body.append(f'<polyline class="chart-line" fill="none" stroke="{colour}" stroke-width="2" '
                            f'points="{" ".join(seg)}"/>')
        for i, value in enumerate(points):
            if value is not None:
                body.append(f'<circle cx="{x_of(i):.1f}" cy="{y_of(value):.1f}" r="2.5" fill="{colour}">'
                            f'<title>{escape(name)} {escape(labels[i])}: {escape(_num(value))}{escape(unit)}</title>'
                            f'</circle>')
    legend = [(name, PALETTE[n % len(PALETTE)]) for n, (name, _) in enumerate(series)]
    return _frame(title, body, legend)


def bar_chart(title: str, labels: list[str], values: list[float], name: str, unit: str = "",
              overlay: tuple[str, list[float]] | None = None, label_every: int = 1) -> Markup:
    """Vertical bars, optionally with a second series drawn as a line on its own right-hand scale."""
    if not labels or not any(values):
        return _frame(title, [f'<text class="chart-empty" x="{WIDTH / 2}" y="{HEIGHT / 2}" text-anchor="middle">'
                              f'No data in this range</text>'])
    ticks = nice_ticks(0, max(values))
    high = ticks[-1]
    plot_w, plot_h = WIDTH - LEFT - RIGHT - (30 if overlay else 0), HEIGHT - TOP - BOTTOM
    slot = plot_w / len(labels)

    def y_of(v: float) -> float:
        return TOP + plot_h * (1 - v / (high or 1))

    body = _y_axis(ticks, y_of, unit)
    for i, (label, value) in enumerate(zip(labels, values)):
        x = LEFT + slot * i + slot * 0.15
        y = y_of(value)
        body.append(f'<rect class="chart-bar" x="{x:.1f}" y="{y:.1f}" width="{slot * 0.7:.1f}" '
                    f'height="{TOP + plot_h - y:.1f}" rx="2" fill="{PALETTE[0]}">'
                    f'<title>{escape(label)}: {escape(_num(value))}{escape(unit)} {escape(name)}</title></rect>')
        if i % label_every == 0:
            body.append(f'<text class="chart-tick" x="{x + slot * 0.35:.1f}" y="{HEIGHT - BOTTOM + 16}" '
                        f'text-anchor="middle">{escape(label)}</text>')
    legend = [(name, PALETTE[0])]
    if overlay:
        over_name, over_values = overlay
        over_high = max(nice_ticks(0, max(over_values) or 1))
        points = " ".join(f"{LEFT + slot * (i + 0.5):.1f},{TOP + plot_h * (1 - v / over_high):.1f}"
                          for i, v in enumerate(over_values))
        body.append(f'<polyline fill="none" stroke="{PALETTE[2]}" stroke-width="2" points="{points}"/>')
        for tick in nice_ticks(0, over_high, 2):
            y = TOP + plot_h * (1 - tick / over_high)
            body.append(f'<text class="chart-tick" x="{WIDTH - RIGHT}" y="{y + 4:.1f}" text-anchor="end">'
                        f'{escape(_num(tick))}</text>')
        legend.append((over_name, PALETTE[2]))
        # Each scale says what it counts: bars on the left, the line on the right.
        body.append(f'<text class="chart-axis-label" x="{LEFT}" y="{TOP - 4}" text-anchor="end">{escape(name)}</text>')
        body.append(f'<text class="chart-axis-label" x="{WIDTH - RIGHT}" y="{TOP - 4}" text-anchor="end" '
                    f'fill="{PALETTE[2]}">{escape(over_name)}</text>')
    return _frame(title, body, legend)


def funnel_chart(title: str, stages: list[tuple[str, int]]) -> Markup:
    """Horizontal bars, one per stage, each labelled with its count and share of the first stage."""
    row_h = 30
    height = TOP + 8 + row_h * len(stages) + 8
    first = stages[0][1] if stages else 0
    label_w = 150
    plot_w = WIDTH - label_w - RIGHT - 90
    body = []
    for i, (label, count) in enumerate(stages):
        y = TOP + 8 + row_h * i
        width = plot_w * (count / first) if first else 0
        share = f" ({count * 100 / first:.0f}%)" if first and i else ""
        body.append(f'<text class="chart-label" x="{label_w - 8}" y="{y + 18}" text-anchor="end">{escape(label)}</text>')
        body.append(f'<rect x="{label_w}" y="{y + 4}" width="{max(width, 1):.1f}" height="{row_h - 10}" rx="3" '
                    f'fill="{PALETTE[i % len(PALETTE)]}"/>')
        body.append(f'<text class="chart-value" x="{label_w + max(width, 1) + 6:.1f}" y="{y + 18}">'
                    f'{escape(str(count))}{escape(share)}</text>')
    if not first:
        body.append(f'<text class="chart-empty" x="{WIDTH / 2}" y="{height / 2}" text-anchor="middle">'
                    f'No article suggestions in this range</text>')
    return _frame(title, body, height=height)
