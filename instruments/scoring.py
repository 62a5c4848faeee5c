"""Item answers to scale scores: reverse keys, then the mean if enough items were answered."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from fractions import Fraction

from .model import Instrument, Scale


@dataclass(frozen=True)
class ScaleScore:
    """A scale's score (None when too few items were answered) and how many items were."""

    scale: str
    score: float | None
    items_answered: int


def keyed_value(instrument: Instrument, item_id: str, value: int) -> int:
    """The value scored for an answer: reversed (lowest <-> highest) for reverse-keyed items."""
    if not instrument.item(item_id).reverse:
        return value
    values = instrument.values
    return values[0] + values[-1] - value


def enough_answered(scale: Scale, answered: int, asked: int | None = None) -> bool:
    """True when the share of the scale's items answered reaches its minimum, exactly.

    The share is of the items `asked` (all the scale's items unless some were not asked:
    an item a condition hid never counts against the minimum).
    """
    asked = len(scale.items) if asked is None else asked
    if asked == 0 or answered == 0:
        return False
    # Fraction(str(...)) keeps 0.7 as 7/10, so a share exactly at the threshold counts.
    return Fraction(answered, asked) >= Fraction(str(scale.min_answered))


def _validated(instrument: Instrument, answers: Mapping[str, object]) -> dict[str, int]:
    """The answered Likert values by item id; ValueError for unknown items or values out of range.

    Answers to items of other types (choice, number, text) are never scored and are ignored.
    """
    likert = {item.id for item in instrument.likert_items}
    known = {item.id for item in instrument.items}
    allowed = instrument.values
    given: dict[str, int] = {}
    for item_id, value in answers.items():
        if item_id not in known:
            raise ValueError(f"{instrument.key} has no item {item_id!r}")
        if value is None or item_id not in likert:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value not in allowed:
            raise ValueError(
                f"answer {value!r} to item {item_id!r} is not one of the response values "
                f"{', '.join(map(str, allowed))} (use None for 'does not apply' or no answer)"
            )
        given[item_id] = value
    return given


def score_scales(
    instrument: Instrument, answers: Mapping[str, object],
    not_asked: Collection[str] = frozenset(),
) -> dict[str, ScaleScore]:
    """Score every scale of `instrument`; a missing key or None means the item was not answered.

    Only Likert items are scored; answers to other item types are ignored. Items in
    `not_asked` (hidden by their conditions) are left out of the scale: any answer to one is
    ignored, and `min_answered` is a share of the items that were asked.
    """
    given = {k: v for k, v in _validated(instrument, answers).items() if k not in not_asked}
    scores: dict[str, ScaleScore] = {}
    for scale in instrument.scales.values():
        keyed = [
            keyed_value(instrument, item_id, given[item_id])
            for item_id in scale.items
            if item_id in given
        ]
        asked = sum(1 for item_id in scale.items if item_id not in not_asked)
        score = sum(keyed) / len(keyed) if enough_answered(scale, len(keyed), asked) else None
        scores[scale.id] = ScaleScore(scale.id, score, len(keyed))
    return scores
