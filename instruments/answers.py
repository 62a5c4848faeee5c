"""Answers of each item type: read from what a person typed, checked, and described.

A Likert answer is one of the response values (None: "does not apply"); a choice answer one
of the item's option values; a number answer a float within the item's range (a whole number
when the item says so); a text answer a string no longer than the item's limit. Pure Python.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable

from .model import CHOICE, LIKERT, NUMBER, TEXT, Instrument, Item

#: What an answer may hold: int (Likert, choice), float (number), str (text), None (does not apply).
AnswerValue = int | float | str | None

_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")
#: Translates a message (gettext); the respondent pages pass theirs, so these words are in
#: the UI catalogue (survey/translations), while this module stays free of Flask.
Gettext = Callable[[str], str]


def _untranslated(message: str) -> str:
    return message


def _format(value: float) -> str:
    """A number as people write it: 37.5, 12 (no trailing .0)."""
    return f"{value:g}" if abs(value) < 1e15 else str(value)


def range_hint(item: Item, gettext: Gettext = _untranslated) -> str:
    """What a number item accepts, in words, e.g. 'A whole number from 0 to 40 (people).'."""
    assert item.number is not None
    span = item.number
    values = {"minimum": _format(span.minimum), "maximum": _format(span.maximum),
              "unit": span.unit or ""}
    if span.integer:
        message = (gettext("A whole number from %(minimum)s to %(maximum)s (%(unit)s).") if span.unit
                   else gettext("A whole number from %(minimum)s to %(maximum)s."))
    else:
        message = (gettext("A number from %(minimum)s to %(maximum)s (%(unit)s).") if span.unit
                   else gettext("A number from %(minimum)s to %(maximum)s."))
    return message % values


def length_hint(item: Item, gettext: Gettext = _untranslated) -> str:
    """The character limit of a text item, in words."""
    return gettext("You can write up to %(count)s characters.") % {"count": item.max_length}


def parse_number(item: Item, typed: str, gettext: Gettext = _untranslated) -> float | str:
    """The number typed for a number item, or a message saying what to type instead."""
    assert item.number is not None
    span = item.number
    text = typed.strip()
    hint = range_hint(item, gettext)
    values = {"expected": hint[0].lower() + hint[1:-1], "example": _format(span.minimum)}
    if not _NUMBER.match(text):
        return gettext("Enter %(expected)s, using digits (for example %(example)s).") % values
    value = float(text)
    if span.integer and not value.is_integer():
        return gettext("Enter %(expected)s: a whole number, without a decimal point.") % values
    if not span.minimum <= value <= span.maximum:
        return gettext("Enter %(expected)s; %(value)s is outside this range.") % {
            **values, "value": _format(value)}
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
