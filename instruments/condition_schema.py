"""Read and check the `show_if` conditions of an instrument file (see instruments.conditions)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .conditions import ALL, ANY, EQUALS, IN, NOT_EQUALS, RANGE, ROLE, ROLES, Condition
from .fields import FieldReader
from .model import CHOICE, LIKERT, NUMBER, Instrument, Item
from .source import SourceMap

_TESTS = ("equals", "not_equals", "in", "min", "max", "above", "below")


def read_condition(reader: FieldReader, value: Any, line: int | None, item: str | None
                   ) -> Condition | None:
    """Parse one `show_if` value; None (with problems recorded) when it is not a condition."""
    raw = reader.mapping(value, line, item, "a show_if condition")
    if raw is None:
        return None
    where = raw.line
    for key, at, first in raw.duplicate_keys:
        reader.add(at, item, "show_if", f"{key!r} given twice (first on line {first})")
    if "all" in raw or "any" in raw:
        op = ALL if "all" in raw else ANY
        if len(raw) != 1:
            reader.add(where, item, "show_if", "'all' or 'any' stands alone: "
                       "{all: [condition, ...]}")
            return None
        entries = raw[op]
        if not isinstance(entries, list) or len(entries) < 2:
            reader.add(raw.line_of(op), item, "show_if",
                       f"'{op}' needs a list of at least two conditions")
            return None
        parts = [read_condition(reader, entry, raw.line_of(op), item) for entry in entries]
        if any(part is None for part in parts):
            return None
        return Condition(op, parts=tuple(p for p in parts if p is not None), line=where)
    if "role" in raw:
        if len(raw) != 1:
            reader.add(where, item, "show_if", "'role' stands alone: {role: peer_worker}")
            return None
        roles = raw["role"] if isinstance(raw["role"], list) else [raw["role"]]
        unknown = [r for r in roles if r not in ROLES]
        if unknown or not roles:
            reader.add(raw.line_of("role"), item, "show_if",
                       f"unknown role {unknown[0] if unknown else None!r}; roles: {', '.join(ROLES)}")
            return None
        return Condition(ROLE, roles=tuple(roles), line=where)
    unknown_keys = [k for k in raw if k not in ("item", *_TESTS)]
    if unknown_keys:
        reader.add(raw.line_of(str(unknown_keys[0])), item, "show_if",
                   f"unknown condition field {unknown_keys[0]!r}; use item with one of "
                   f"{', '.join(_TESTS)}, or role, all, any")
        return None
    target = raw.get("item")
    if not isinstance(target, str):
        reader.add(where, item, "show_if", "a condition names the earlier 'item' it depends on")
        return None
    tests = [k for k in _TESTS if k in raw]
    ranges = [k for k in tests if k in ("min", "max", "above", "below")]
    if not tests or (len(tests) > 1 and len(ranges) != len(tests)) or \
            ("min" in raw and "above" in raw) or ("max" in raw and "below" in raw):
        reader.add(where, item, "show_if",
                   "give one test: equals, not_equals or in, or a range (min or above, "
                   "max or below)")
        return None
    numbers: dict[str, float] = {}
    for key in tests:
        values = raw[key] if key == "in" else [raw[key]]
        if key == "in" and (not isinstance(values, list) or not values):
            reader.add(raw.line_of(key), item, "show_if", "'in' needs a list of answer values")
            return None
        for entry in values:
            if isinstance(entry, bool) or not isinstance(entry, int | float):
                reader.add(raw.line_of(key), item, "show_if",
                           f"{key}: {entry!r} is not an answer value (a number)")
                return None
        numbers[key] = float(values[0])
    if ranges:
        return Condition(RANGE, target,
                         minimum=numbers.get("min", numbers.get("above")),
                         maximum=numbers.get("max", numbers.get("below")),
                         min_exclusive="above" in raw, max_exclusive="below" in raw, line=where)
    key = tests[0]
    values = raw[key] if key == "in" else [raw[key]]
    op = {"equals": EQUALS, "not_equals": NOT_EQUALS, "in": IN}[key]
    return Condition(op, target, values=tuple(float(v) for v in values), line=where)


def _leaves(condition: Condition) -> list[Condition]:
    if condition.op in (ALL, ANY):
        return [leaf for part in condition.parts for leaf in _leaves(part)]
    return [condition]


def possible_values(instrument: Instrument, item: Item) -> set[float] | None:
    """The answers an item can take (None: a number range, or text)."""
    if item.type == LIKERT:
        return {float(v) for v in instrument.values}
    if item.type == CHOICE:
        return {float(o.value) for o in item.options}
    return None


def check_conditions(reader: FieldReader, instrument: Instrument,
                     page_conditions: Mapping[str, tuple[Condition, str]]) -> None:
    """Each condition names a known, earlier item and answers it can take.

    `page_conditions` holds each page's (scale's or extra page's) own condition and the
    field that declared it: those must name items on earlier pages.
    """
    order: list[tuple[Item, str, bool]] = []
    for page in instrument.pages(first_wave=True):
        order.extend((item, page.id, item.baseline_only) for item in page.items)
    position = {item.id: index for index, (item, _page, _b) in enumerate(order)}
    page_of = {item.id: page_id for item, page_id, _b in order}
    first_on_page: dict[str, int] = {}
    for index, (_item, page_id, _b) in enumerate(order):
        first_on_page.setdefault(page_id, index)
    for index, (item, page_id, baseline) in enumerate(order):
        if item.show_if is None:
            continue
        own_page = page_conditions.get(page_id)
        for leaf in _leaves(item.show_if):
            is_page_leaf = own_page is not None and any(leaf is p for p in _leaves(own_page[0]))
            if is_page_leaf and index != first_on_page[page_id]:
                continue  # a page's condition is checked once, at its first item
            _check_leaf(reader, instrument, leaf, item, index, position, page_of, page_id,
                        baseline, is_page_leaf, order)


def _check_leaf(reader: FieldReader, instrument: Instrument, leaf: Condition, item: Item,
                index: int, position: Mapping[str, int], page_of: Mapping[str, str],
                page_id: str, baseline: bool, is_page_leaf: bool,
                order: Sequence[tuple[Item, str, bool]]) -> None:
    if leaf.op == ROLE or leaf.item is None:
        return
    who = f"the condition of page {page_id!r}" if is_page_leaf else "this condition"
    if leaf.item not in position:
        reader.add(leaf.line, item.id, "show_if",
                   f"{who} names unknown item {leaf.item!r}")
        return
    target = order[position[leaf.item]][0]
    if position[leaf.item] >= index or (is_page_leaf and page_of[leaf.item] == page_id):
        reader.add(leaf.line, item.id, "show_if",
                   f"{who} names item {leaf.item!r}, which is asked "
                   f"{'on the same page' if is_page_leaf else 'later or is this item'}; a "
                   "condition may only depend on answers given before"
                   + (" (on an earlier page)" if is_page_leaf else ""))
        return
    if target.baseline_only and not baseline:
        reader.add(leaf.line, item.id, "show_if",
                   f"{who} names baseline-only item {leaf.item!r}, which later waves do not "
                   "ask, so the condition could never be met there")
        return
    if target.type not in (LIKERT, CHOICE, NUMBER):
        reader.add(leaf.line, item.id, "show_if",
                   f"{who} names free-text item {leaf.item!r}; conditions test choices "
                   "and numbers only")
        return
    allowed = possible_values(instrument, target)
    if leaf.op == RANGE:
        if target.type != NUMBER:
            reader.add(leaf.line, item.id, "show_if",
                       f"a range (min, max, above, below) tests a number item; {leaf.item!r} "
                       "is a choice: use equals, not_equals or in")
            return
        span = target.number
        assert span is not None
        for bound in (leaf.minimum, leaf.maximum):
            if bound is not None and not span.minimum <= bound <= span.maximum:
                reader.add(leaf.line, item.id, "show_if",
                           f"{bound:g} is outside {leaf.item!r}'s range "
                           f"{span.minimum:g} to {span.maximum:g}")
        return
    for value in leaf.values:
        if allowed is not None and value not in allowed:
            reader.add(leaf.line, item.id, "show_if",
                       f"{leaf.item!r} cannot be answered {value:g}; its answers are "
                       f"{', '.join(f'{v:g}' for v in sorted(allowed))}")
        elif allowed is None and target.number is not None and not (
                target.number.minimum <= value <= target.number.maximum):
            reader.add(leaf.line, item.id, "show_if",
                       f"{value:g} is outside {leaf.item!r}'s range "
                       f"{target.number.minimum:g} to {target.number.maximum:g}")


def condition_field(reader: FieldReader, raw: SourceMap, item: str | None) -> Condition | None:
    """The optional `show_if` of a mapping (an item, scale or page)."""
    if raw.get("show_if") is None:
        return None
    return read_condition(reader, raw["show_if"], raw.line_of("show_if"), item)
