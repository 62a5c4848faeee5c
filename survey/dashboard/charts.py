"""Small server-rendered SVG line charts (no script, no inline style: CSP-safe, print-safe)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

# Colour-blind-safe pair with distinct markers and dashes, so colour is never the only cue.
SERIES_STYLES = (
    {"colour": "#1d4f91", "dash": "", "marker": "circle"},
    {"colour": "#b35c00", "dash": "6 4", "marker": "square"},
    {"colour": "#3a7d44", "dash": "2 3", "marker": "circle"},
)


@dataclasses.dataclass
class Series:
    """One line: its label, its points in pixels, and how it is drawn."""

    label: str
    points: list[tuple[float, float]]
    colour: str
    dash: str
    marker: str
    # (x, y of the interval's top, y of its bottom): the 95% interval of each point, as whiskers
    whiskers: list[tuple[float, float, float]] = dataclasses.field(default_factory=list)

    @property
    def polyline(self) -> str:
        """The `points` attribute of the SVG polyline."""
        return " ".join(f"{x:.1f},{y:.1f}" for x, y in self.points)


@dataclasses.dataclass
class LineChart:
    """Everything the `line_chart` macro draws."""

    title: str
    width: int
    height: int
    x_ticks: list[tuple[float, str]]
    y_ticks: list[tuple[float, str]]
    series: list[Series]
    plot_left: int
    plot_right: int
    plot_top: int
    plot_bottom: int


def line_chart(
    title: str,
    x_labels: Sequence[str],
    values: Mapping[str, Sequence[float | None]],
    intervals: Mapping[str, Sequence[tuple[float, float] | None]] | None = None,
    y_min: float = 1.0,
    y_max: float = 5.0,
    width: int = 320,
    height: int = 200,
) -> LineChart:
    """Lay out series of values (None = a gap) and their 95% intervals against categorical x
    labels, on a fixed y axis (so that small multiples share one axis).

    Values and intervals are drawn rounded to one decimal place, as the tables print them, so
    the drawing's coordinates give away no more precision than the text.
    """
    # Room for the y labels on the left and half an x label on the right.
    left, right, top, bottom = 36, width - 36, 12, height - 28
    count = max(len(x_labels), 1)
    step = (right - left) / max(count - 1, 1)

    def x_at(i: int) -> float:
        return left + step * i if count > 1 else (left + right) / 2

    def y_at(v: float) -> float:
        return bottom - (v - y_min) / (y_max - y_min) * (bottom - top)

    def y_rounded(v: float) -> float:
        return y_at(min(max(round(v, 1), y_min), y_max))

    series = []
    # Side by side at each wave, a few pixels apart, so that overlapping whiskers stay apart.
    spread = len(values) - 1
    for k, ((label, row), style) in enumerate(zip(values.items(), SERIES_STYLES, strict=False)):
        shift = (k - spread / 2) * 6
        bands = (intervals or {}).get(label) or [None] * len(row)
        points = [(x_at(i) + shift, y_rounded(v)) for i, v in enumerate(row) if v is not None]
        whiskers = [(x_at(i) + shift, y_rounded(band[1]), y_rounded(band[0]))
                    for i, (v, band) in enumerate(zip(row, bands, strict=True))
                    if v is not None and band is not None]
        series.append(Series(label, points, style["colour"], style["dash"], style["marker"],
                             whiskers))
    y_ticks = [(y_at(v), f"{v:g}") for v in range(int(y_min), int(y_max) + 1)]
    x_ticks = [(x_at(i), label) for i, label in enumerate(x_labels)]
    return LineChart(title, width, height, x_ticks, y_ticks, series, left, right, top, bottom)
