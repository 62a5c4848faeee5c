"""Conditional questions: when an item, a scale (a group of items and its page) or a page is asked.

A condition is written under ``show_if`` in an instrument file, as one of::

    {item: has_supervision, equals: 1}          # that answer
    {item: has_supervision, not_equals: 1}      # any other answer, or none
    {item: team_size, in: [1, 2]}               # one of these answers
    {item: hours, min: 10, max: 40}             # a number range (min/max inclusive,
    {item: hours, above: 10, below: 40}         #  above/below exclusive)
    {role: peer_worker}  or  {role: [colleague, manager]}
    {all: [CONDITION, ...]}  /  {any: [CONDITION, ...]}

An item that was not answered (or answered "does not apply", or not asked itself) meets no
condition on it except ``not_equals``, as in REDCap's branching logic. A condition may only
name items asked before the one it decides (earlier in the questionnaire; on the same page
for an item's own condition), so the questionnaire's order decides every condition in one
pass (`shown_items`). Pure Python: no Flask, no database.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

EQUALS, NOT_EQUALS, IN, RANGE, ROLE, ALL, ANY = (
    "equals", "not_equals", "in", "range", "role", "all", "any")
ROLES = ("peer_worker", "colleague", "manager")


@dataclass(frozen=True)
class Condition:
    """One condition: a test of an earlier answer or of the role, or all/any of several."""

    op: str
    item: str | None = None
    values: tuple[float, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    min_exclusive: bool = False
    max_exclusive: bool = False
    roles: tuple[str, ...] = ()
    parts: tuple[Condition, ...] = ()
    line: int | None = field(default=None, compare=False, repr=False)

    def item_ids(self) -> set[str]:
        """Every item this condition names."""
        if self.op in (ALL, ANY):
            return set().union(*(part.item_ids() for part in self.parts))
        return {self.item} if self.item is not None else set()

    def uses_role(self) -> bool:
        """True when the participant's role takes part."""
        return self.op == ROLE or any(part.uses_role() for part in self.parts)

    def holds(self, answers: Mapping[str, object], role: str | None) -> bool:
        """Whether the condition is met by these answers (absent or None: not answered)."""
        if self.op == ALL:
            return all(part.holds(answers, role) for part in self.parts)
        if self.op == ANY:
            return any(part.holds(answers, role) for part in self.parts)
        if self.op == ROLE:
            return role in self.roles
        assert self.item is not None
        value = answers.get(self.item)
        if value is None or isinstance(value, bool | str):
            return self.op == NOT_EQUALS
        assert isinstance(value, int | float)
        if self.op == EQUALS or self.op == IN:
            return value in self.values
        if self.op == NOT_EQUALS:
            return value not in self.values
        return self._in_range(float(value))

    def _in_range(self, value: float) -> bool:
        if self.minimum is not None and (value < self.minimum
                                         or (self.min_exclusive and value == self.minimum)):
            return False
        return not (self.maximum is not None and (
            value > self.maximum or (self.max_exclusive and value == self.maximum)))

    def partial(self, known: Mapping[str, object], pending: set[str], role: str | None
                ) -> Condition | bool:
        """This condition with everything but the `pending` items decided: True, False, or
        what is left (naming only pending items), for a page to decide as answers are given."""
        if self.op in (ALL, ANY):
            left: list[Condition] = []
            for part in self.parts:
                decided = part.partial(known, pending, role)
                if (decided is True and self.op == ANY) or (decided is False and self.op == ALL):
                    return decided
                if isinstance(decided, Condition):
                    left.append(decided)
            if not left:
                return self.op == ALL
            return left[0] if len(left) == 1 else Condition(self.op, parts=tuple(left))
        if self.item is not None and self.item in pending:
            return self
        return self.holds(known, role)

    def to_json(self) -> dict[str, Any]:
        """The condition as plain data (for the page's reveal script)."""
        if self.op in (ALL, ANY):
            return {"op": self.op, "parts": [part.to_json() for part in self.parts]}
        if self.op == ROLE:
            return {"op": ROLE, "roles": list(self.roles)}
        data: dict[str, Any] = {"op": self.op, "item": self.item}
        if self.op == RANGE:
            data.update(min=self.minimum, max=self.maximum, minx=self.min_exclusive,
                        maxx=self.max_exclusive)
        else:
            data["values"] = list(self.values)
        return data

    def to_attribute(self) -> str:
        """The JSON of `to_json`, compact, for an HTML data attribute (escape it there)."""
        return json.dumps(self.to_json(), separators=(",", ":"))

    def redcap(self) -> str:
        """The condition in REDCap's branching-logic syntax (role as [peerpulse_role])."""
        return self._redcap(top=True)

    def _redcap(self, top: bool) -> str:
        if self.op in (ALL, ANY):
            joined = f" {'and' if self.op == ALL else 'or'} ".join(
                part._redcap(top=False) for part in self.parts)
            return joined if top else f"({joined})"
        if self.op == ROLE:
            tests = [f"[{ROLE_FIELD}] = '{role}'" for role in self.roles]
            return _joined(tests, "or", top)
        field_ = f"[{self.item}]"
        if self.op in (EQUALS, IN):
            return _joined([f"{field_} = '{_number(v)}'" for v in self.values], "or", top)
        if self.op == NOT_EQUALS:
            return _joined([f"{field_} <> '{_number(v)}'" for v in self.values], "and", top)
        tests = []
        if self.minimum is not None:
            tests.append(f"{field_} {'>' if self.min_exclusive else '>='} {_number(self.minimum)}")
        if self.maximum is not None:
            tests.append(f"{field_} {'<' if self.max_exclusive else '<='} {_number(self.maximum)}")
        return _joined(tests, "and", top)

    def words(self, labels: Mapping[str, Mapping[float, str]] | None = None) -> str:
        """The condition in plain English, e.g. 'has_supervision is 1 (Yes)'."""
        labels = labels or {}
        if self.op in (ALL, ANY):
            joiner = " and " if self.op == ALL else " or "
            texts = [part.words(labels) if part.op not in (ALL, ANY) else f"({part.words(labels)})"
                     for part in self.parts]
            return joiner.join(texts)
        if self.op == ROLE:
            return "the participant's role is " + " or ".join(r.replace("_", " ") for r in self.roles)

        def said(value: float) -> str:
            label = labels.get(self.item or "", {}).get(value)
            return f"{_number(value)} ({label})" if label else _number(value)

        if self.op == EQUALS:
            return f"{self.item} is {said(self.values[0])}"
        if self.op == IN:
            return f"{self.item} is one of " + ", ".join(said(v) for v in self.values)
        if self.op == NOT_EQUALS:
            return f"{self.item} is not " + " or ".join(said(v) for v in self.values) + \
                " (or not answered)"
        bounds = []
        if self.minimum is not None:
            bounds.append(f"{'more than' if self.min_exclusive else 'at least'} "
                          f"{_number(self.minimum)}")
        if self.maximum is not None:
            bounds.append(f"{'less than' if self.max_exclusive else 'at most'} "
                          f"{_number(self.maximum)}")
        return f"{self.item} is " + " and ".join(bounds)


#: The REDCap field that stands for the participant's role in exported branching logic.
ROLE_FIELD = "peerpulse_role"


def _joined(tests: Sequence[str], word: str, top: bool) -> str:
    text = f" {word} ".join(tests)
    return text if top or len(tests) == 1 else f"({text})"


def _number(value: float) -> str:
    return f"{value:g}" if float(value).is_integer() or abs(value) < 1e15 else str(value)


def both(first: Condition | None, second: Condition | None) -> Condition | None:
    """Both conditions (either may be None: no condition)."""
    if first is None or second is None:
        return first or second
    return Condition(ALL, parts=(first, second))


class Conditional(Protocol):
    """An item as far as conditions go: its id and its condition (page and group included)."""

    @property
    def id(self) -> str: ...
    @property
    def show_if(self) -> Condition | None: ...


def shown_items(items: Iterable[Conditional], answers: Mapping[str, object],
                role: str | None) -> set[str]:
    """Ids of the items (in questionnaire order) that are asked given these answers.

    An answer to an item that is not asked does not count (it is discarded when saved), so
    hiding an answer also hides what depends on it.
    """
    shown: set[str] = set()
    effective: dict[str, object] = {}
    for item in items:
        if item.show_if is None or item.show_if.holds(effective, role):
            shown.add(item.id)
            if item.id in answers:
                effective[item.id] = answers[item.id]
    return shown
