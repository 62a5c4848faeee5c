"""A participant's own scale scores over waves, laid out for a small server-rendered SVG."""

from __future__ import annotations

from dataclasses import dataclass

from instruments import Instrument
from survey.services.responses import WaveScores

WIDTH = 320
LEFT, RIGHT = 16, 304  # the 1..5 track runs between these x positions
ROW_HEIGHT = 52
TOP = 4
AXIS_HEIGHT = 28


@dataclass(frozen=True)
class Point:
    """One wave's score on a scale's track."""

    x: float
    wave_label: str
    score: float
    latest: bool


@dataclass(frozen=True)
class Row:
    """One scale: its label, the y of its track, and a point per scored wave."""

    scale: str
    label: str
    label_y: float
    track_y: float
    points: tuple[Point, ...]


@dataclass(frozen=True)
class Tick:
    """A value mark on the axis."""

    x: float
    label: str


@dataclass(frozen=True)
class ScoreChart:
    """Everything the template needs to draw the chart and its data table."""

    width: int
    height: int
    rows: tuple[Row, ...]
    ticks: tuple[Tick, ...]
    axis_y: float
    waves: tuple[WaveScores, ...]
    labels: dict[str, str]


def _x(value: float, low: int, high: int) -> float:
    """The x position of a score between the lowest and highest answer values."""
    return round(LEFT + (value - low) / (high - low) * (RIGHT - LEFT), 1)


def score_chart(instrument: Instrument, waves: list[WaveScores]) -> ScoreChart | None:
    """Lay out one track per scale with a dot per wave (the latest wave filled); None if empty."""
    low, high = instrument.values[0], instrument.values[-1]
    latest = waves[-1].wave_index if waves else None
    rows: list[Row] = []
    for scale in instrument.scales.values():
        scored = [(w, score) for w in waves if (score := w.scores.get(scale.id)) is not None]
        points = tuple(
            Point(_x(score, low, high), w.wave_label, score, w.wave_index == latest)
            for w, score in scored
        )
        if not points:
            continue
        top = TOP + len(rows) * ROW_HEIGHT
        rows.append(Row(scale.id, scale.label, top + 16, top + 36, points))
    if not rows:
        return None
    axis_y = TOP + len(rows) * ROW_HEIGHT + 4
    ticks = tuple(Tick(_x(v, low, high), str(v)) for v in instrument.values)
    labels = {scale.id: scale.label for scale in instrument.scales.values()}
    return ScoreChart(WIDTH, int(axis_y + AXIS_HEIGHT), tuple(rows), ticks, axis_y,
                      tuple(waves), labels)
