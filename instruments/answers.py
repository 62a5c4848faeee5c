"""Answers of each item type: read from what a person typed, checked, and described.

A Likert answer is one of the response values (None: "does not apply"); a choice answer one
of the item's option values; a number answer a float within the item's range (a whole number
when the item says so); a text answer a string no longer than the item's limit. Pure Python.
"""

from __future__ import annotations

import math
import re

from .model import CHOICE, LIKERT, NUMBER, TEXT, Instrument, Item

#: What an answer may hold: int (Likert, choice), float (number), str (text), None (does not apply).
AnswerValue = int | float | str | None

_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")


def _format(value: float) -> str:
    """A number as people write it: 37.5, 12 (no trailing .0)."""
    return f"{value:g}" if abs(value) < 1e15 else str(value)


def range_hint(item: Item) -> str:
    """What a number item accepts, in words, e.g. 'A whole number from 0 to 40 (people).'."""
    assert item.number is not None
    span = item.number
    kind = "A whole number" if span.integer else "A number"
    unit = f" ({span.unit})" if span.unit else ""
    return f"{kind} from {_format(span.minimum)} to {_format(span.maximum)}{unit}."


def length_hint(item: Item) -> str:
    """The character limit of a text item, in words."""
    return f"You can write up to {item.max_length} characters."


def parse_number(item: Item, typed: str) -> float | str:
    """The number typed for a number item, or a message saying what to type instead."""
    assert item.number is not None
    span = item.number
    text = typed.strip()
    expected = range_hint(item)[0].lower() + range_hint(item)[1:-1]
    if not _NUMBER.match(text):
        return f"Enter {expected}, using digits (for example {_format(span.minimum)})."
    value = float(text)
    if span.integer and not value.is_integer():
        return f"Enter {expected}: a whole number, without a decimal point."
    if not span.minimum <= value <= span.maximum:
        return f"Enter {expected}; {_format(value)} is outside this range."
    return value


def problem(instrument: Instrument, item: Item, value: AnswerValue) -> str | None:
    """Why `value` is not a valid stored answer to `item`, or None when it is."""
    if item.type == LIKERT:
        if value is None:
            return None if instrument.not_applicable_label else \
                f"{instrument.key} has no 'does not apply' answer"
        if isinstance(value, bool) or not isinstance(value, int) or value not in instrument.values:
            return f"answer {value!r} is not one of {instrument.values}"
        return None
    if value is None:
        return f"item {item.id!r} has no 'does not apply' answer"
    if item.type == CHOICE:
        if isinstance(value, bool) or not isinstance(value, int) or item.option_label(value) is None:
            return f"answer {value!r} is not one of {[o.value for o in item.options]}"
        return None
    if item.type == NUMBER:
        assert item.number is not None
        ok = (isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
              and item.number.minimum <= value <= item.number.maximum
              and (not item.number.integer or float(value).is_integer()))
        return None if ok else f"answer {value!r} is not {range_hint(item)[:-1].lower()}"
    assert item.type == TEXT
    assert item.max_length is not None
    if not isinstance(value, str) or not value.strip():
        return f"answer {value!r} is not text"
    if "\x00" in value:  # no keyboard types it; PostgreSQL cannot store it
        return "answer contains a NUL character"
    if len(value) > item.max_length:
        return f"answer has {len(value)} characters; at most {item.max_length} are allowed"
    return None


def normalised_text(typed: str) -> str:
    """Free text as stored: surrounding white space removed, line breaks as \\n."""
    return typed.replace("\r\n", "\n").replace("\r", "\n").strip()
