"""Check one parsed instrument file and build its Instrument; every fault becomes a Problem."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from .condition_schema import check_conditions, condition_field
from .conditions import Condition, both
from .fields import FieldReader
from .model import (
    AUDIENCES,
    BASELINE_PAGE_ID,
    CHOICE,
    ITEM_TYPES,
    LIKERT,
    NUMBER,
    TEXT,
    BaselineModule,
    Instrument,
    Item,
    NumberRange,
    PageSpec,
    PairTarget,
    Problem,
    ResponseOption,
    Scale,
    Theme,
)
from .source import SourceMap
from .translations import LANGUAGE_FIELDS, parse_translations, source_texts
from .versioning import content_hash

MIN_SCALE_ITEMS = 3
_TOP_FIELDS = (
    "id", "version", "title", "audience", "intro", "time_frame", "response_options",
    "not_applicable_label", "scales", "items", "baseline_module", "pairs_with", "pages",
    *LANGUAGE_FIELDS,
)
_SCALE_FIELDS = ("id", "label", "description", "min_answered", "page_title", "show_if",
                 "randomise")
_PAGE_FIELDS = ("id", "title", "intro", "show_if", "randomise")
_COMMON_ITEM_FIELDS = ("id", "type", "text", "theme", "baseline_only", "help", "show_if",
                       "sensitive")
#: The fields each item type accepts (anything else is reported as an unknown field).
ITEM_FIELDS: dict[str, tuple[str, ...]] = {
    LIKERT: ("id", "text", "scale", "reverse", "theme", "baseline_only", "help", "pair", "type",
             "show_if", "sensitive"),
    CHOICE: (*_COMMON_ITEM_FIELDS, "page", "options"),
    NUMBER: (*_COMMON_ITEM_FIELDS, "page", "min", "max", "integer", "unit"),
    TEXT: (*_COMMON_ITEM_FIELDS, "page", "max_length"),
}
#: The longest free-text answer an instrument may allow (characters).
MAX_TEXT_LENGTH = 5000


def _response_options(reader: FieldReader, root: SourceMap) -> tuple[ResponseOption, ...]:
    options: list[ResponseOption] = []
    for entry in reader.sequence(root, "response_options", None):
        raw = reader.mapping(entry, root.line_of("response_options"), None, "each response option")
        if raw is None:
            continue
        reader.check_keys(raw, ("value", "label"), None)
        value = reader.integer(raw, "value", None)
        label = reader.text(raw, "label", None)
        if value is None or label is None:
            continue
        if options and value <= options[-1].value:
            reader.add(raw.line_of("value"), None, "response_options",
                       f"response options out of order: value {value} comes after "
                       f"{options[-1].value}; list them from lowest to highest")
        elif options and value != options[-1].value + 1:
            reader.add(raw.line_of("value"), None, "response_options",
                       f"response option values must go up by 1: {options[-1].value} "
                       f"is followed by {value}")
        if any(option.label == label for option in options):
            reader.add(raw.line_of("label"), None, "response_options",
                       f"response option label {label!r} is used twice")
        options.append(ResponseOption(value, label))
    if 0 < len(options) < 2:
        reader.add(root.line_of("response_options"), None, "response_options",
                   "at least two response options are needed")
    return tuple(options)


def _scales(reader: FieldReader, root: SourceMap, randomised_lines: dict[str, int | None]
            ) -> tuple[dict[str, Scale], dict[str, int | None]]:
    scales: dict[str, Scale] = {}
    lines: dict[str, int | None] = {}
    for entry in reader.sequence(root, "scales", None):
        raw = reader.mapping(entry, root.line_of("scales"), None, "each scale")
        if raw is None:
            continue
        scale_id = reader.identifier(raw, "id", None)
        reader.check_keys(raw, _SCALE_FIELDS, None)
        label = reader.text(raw, "label", None)
        description = reader.text(raw, "description", None)
        min_answered = reader.share(raw, "min_answered", None)
        page_title = reader.text(raw, "page_title", None, required=False)
        show_if = condition_field(reader, raw, None)
        randomise = reader.flag(raw, "randomise", None, required=False) or False
        if randomise:
            randomised_lines[str(scale_id)] = raw.line_of("randomise")
        if scale_id == BASELINE_PAGE_ID:
            reader.add(raw.line_of("id"), None, "id",
                       f"scale id {BASELINE_PAGE_ID!r} is reserved for the baseline-only page")
        elif scale_id is not None and scale_id in scales:
            reader.add(raw.line_of("id"), None, "id",
                       f"duplicate scale id {scale_id!r} (first on line {lines[scale_id]})")
        elif not (scale_id is None or label is None or description is None
                  or min_answered is None):
            scales[scale_id] = Scale(scale_id, label, description, min_answered, (), page_title,
                                     show_if, randomise)
            lines[scale_id] = raw.line
    return scales, lines


def _choice_options(reader: FieldReader, raw: SourceMap, item_id: str | None
                    ) -> tuple[ResponseOption, ...]:
    """A choice item's own options: whole numbers 0 or more, each value and label once."""
    options: list[ResponseOption] = []
    entries = reader.sequence(raw, "options", item_id)
    for entry in entries:
        option = reader.mapping(entry, raw.line_of("options"), item_id, "each option")
        if option is None:
            continue
        reader.check_keys(option, ("value", "label"), item_id)
        value = reader.integer(option, "value", item_id)
        label = reader.text(option, "label", item_id)
        if value is None or label is None:
            continue
        if value < 0:
            reader.add(option.line_of("value"), item_id, "options",
                       f"option value {value} is negative; use whole numbers 0 or more "
                       "(negative codes mark missing answers in the exports)")
        elif any(o.value == value for o in options):
            reader.add(option.line_of("value"), item_id, "options",
                       f"option value {value} is used twice")
        elif any(o.label == label for o in options):
            reader.add(option.line_of("label"), item_id, "options",
                       f"option label {label!r} is used twice")
        else:
            options.append(ResponseOption(value, label))
    if len(entries) == 1:
        reader.add(raw.line_of("options"), item_id, "options",
                   "a choice item needs at least two options")
    return tuple(options)


def _number_range(reader: FieldReader, raw: SourceMap, item_id: str | None) -> NumberRange | None:
    """A number item's range, whole-number flag and unit; min must not exceed max."""
    minimum = reader.number(raw, "min", item_id)
    maximum = reader.number(raw, "max", item_id)
    integer = reader.flag(raw, "integer", item_id, required=False)
    unit = reader.text(raw, "unit", item_id, required=False)
    integer = True if integer is None else integer
    if minimum is None or maximum is None:
        return None
    if minimum > maximum:
        reader.add(raw.line_of("max"), item_id, "max",
                   f"max {maximum:g} is less than min {minimum:g}; the range must run from "
                   "min up to max")
        return None
    if integer and not (minimum.is_integer() and maximum.is_integer()):
        reader.add(raw.line_of("min"), item_id, "integer",
                   f"the range {minimum:g} to {maximum:g} is not whole numbers; give whole "
                   "numbers or set 'integer: false'")
        return None
    return NumberRange(minimum, maximum, integer, unit)


def _max_length(reader: FieldReader, raw: SourceMap, item_id: str | None) -> int | None:
    """A text item's longest answer, 1 to MAX_TEXT_LENGTH characters."""
    value = reader.integer(raw, "max_length", item_id)
    if value is not None and not 1 <= value <= MAX_TEXT_LENGTH:
        reader.add(raw.line_of("max_length"), item_id, "max_length",
                   f"must be from 1 to {MAX_TEXT_LENGTH} characters, got {value}")
        return None
    return value


def _item_type(reader: FieldReader, raw: SourceMap, item_id: str | None) -> str | None:
    """The item's type (likert when not given); None, with a problem, when unknown."""
    kind = raw.get("type", LIKERT)
    if kind in ITEM_TYPES:
        return str(kind)
    reader.add(raw.line_of("type"), item_id, "type",
               f"{kind!r} is an item type the platform cannot render; use one of "
               f"{', '.join(ITEM_TYPES)}")
    return None


def _other_item(reader: FieldReader, raw: SourceMap, item_id: str | None, kind: str,
                pages: Mapping[str, PageSpec]) -> Item | None:
    """A choice, number or text item: no scale, on one of the extra pages; None if faulty."""
    text = reader.text(raw, "text", item_id)
    theme = reader.identifier(raw, "theme", item_id)
    baseline_only = reader.flag(raw, "baseline_only", item_id, required=False) or False
    help_text = reader.text(raw, "help", item_id, required=False)
    page = reader.identifier(raw, "page", item_id)
    if page is not None and page not in pages:
        reader.add(raw.line_of("page"), item_id, "page",
                   f"unknown page {page!r}; declare it under 'pages' (pages: "
                   f"{', '.join(pages) or 'none'})")
        page = None
    problems_before = len(reader.problems)
    options = _choice_options(reader, raw, item_id) if kind == CHOICE else ()
    number = _number_range(reader, raw, item_id) if kind == NUMBER else None
    max_length = _max_length(reader, raw, item_id) if kind == TEXT else None
    show_if = condition_field(reader, raw, item_id)
    sensitive = reader.flag(raw, "sensitive", item_id, required=False) or False
    if (len(reader.problems) > problems_before or item_id is None or text is None
            or theme is None or page is None):
        return None
    return Item(item_id, text, None, False, theme, baseline_only, help_text, None,
                line=raw.line, type=kind, options=options, number=number,
                max_length=max_length, page=page, show_if=show_if, sensitive=sensitive)


def _likert_item(reader: FieldReader, raw: SourceMap, item_id: str | None,
                 scales: Mapping[str, Scale], audience: str | None,
                 paired: dict[str, str]) -> Item | None:
    """A statement rated on the response scale; None if a required field is faulty."""
    text = reader.text(raw, "text", item_id)
    scale = reader.identifier(raw, "scale", item_id)
    reverse = reader.flag(raw, "reverse", item_id, required=True)
    theme = reader.identifier(raw, "theme", item_id)
    baseline_only = reader.flag(raw, "baseline_only", item_id, required=False) or False
    help_text = reader.text(raw, "help", item_id, required=False)
    pair = reader.identifier(raw, "pair", item_id) if raw.get("pair") is not None else None
    show_if = condition_field(reader, raw, item_id)
    sensitive = reader.flag(raw, "sensitive", item_id, required=False) or False
    if scale is not None and scale not in scales:
        reader.add(raw.line_of("scale"), item_id, "scale",
                   f"unknown scale {scale!r}; scales: {', '.join(scales) or 'none'}")
    if pair is not None and audience == "peer_worker":
        reader.add(raw.line_of("pair"), item_id, "pair",
                   "only colleague instruments pair their items with peer worker items")
    if pair is not None and pair in paired:
        reader.add(raw.line_of("pair"), item_id, "pair",
                   f"{pair!r} is already paired with item {paired[pair]}")
    elif pair is not None and item_id is not None:
        paired[pair] = item_id
    if item_id is None or text is None or scale is None or reverse is None or theme is None:
        return None
    return Item(item_id, text, scale, reverse, theme, baseline_only, help_text, pair,
                line=raw.line, show_if=show_if, sensitive=sensitive)


def _items(
    reader: FieldReader,
    root: SourceMap,
    scales: Mapping[str, Scale],
    themes: Mapping[str, Theme] | None,
    audience: str | None,
    pages: Mapping[str, PageSpec],
) -> tuple[list[Item], bool]:
    """The valid items, and whether every item entry was valid."""
    items: list[Item] = []
    complete = True
    first_line: dict[str, int | None] = {}
    paired: dict[str, str] = {}
    for entry in reader.sequence(root, "items", None):
        raw = reader.mapping(entry, root.line_of("items"), None, "each item")
        if raw is None:
            continue
        item_id = reader.identifier(raw, "id", None)
        kind = _item_type(reader, raw, item_id)
        if kind is None:
            complete = False
            continue
        reader.check_keys(raw, ITEM_FIELDS[kind], item_id)
        theme = raw.get("theme")
        if isinstance(theme, str) and themes is not None and theme not in themes:
            reader.add(raw.line_of("theme"), item_id, "theme",
                       f"unknown theme {theme!r}; add it to themes.yaml or fix the spelling")
        item = (_likert_item(reader, raw, item_id, scales, audience, paired) if kind == LIKERT
                else _other_item(reader, raw, item_id, kind, pages))
        if item_id is not None and item_id in first_line:
            reader.add(raw.line_of("id"), item_id, "id",
                       f"duplicate item id (first on line {first_line[item_id]})")
            complete = False
            continue
        if item is None:
            complete = False
            continue
        first_line[item.id] = raw.line
        items.append(item)
    return items, complete


def _extra_pages(reader: FieldReader, root: SourceMap, scales: Mapping[str, Scale],
                 randomised_lines: dict[str, int | None]) -> dict[str, PageSpec]:
    """The extra pages (for items not on a scale), by id, in file order."""
    pages: dict[str, PageSpec] = {}
    if root.get("pages") is None:
        return pages
    for entry in reader.sequence(root, "pages", None):
        raw = reader.mapping(entry, root.line_of("pages"), None, "each page")
        if raw is None:
            continue
        reader.check_keys(raw, _PAGE_FIELDS, None)
        page_id = reader.identifier(raw, "id", None)
        title = reader.text(raw, "title", None)
        intro = reader.text(raw, "intro", None, required=False)
        show_if = condition_field(reader, raw, None)
        randomise = reader.flag(raw, "randomise", None, required=False) or False
        if randomise and page_id is not None:
            randomised_lines[page_id] = raw.line_of("randomise")
        if page_id is None or title is None:
            continue
        if page_id == BASELINE_PAGE_ID or page_id in scales or page_id in pages:
            reader.add(raw.line_of("id"), None, "pages",
                       f"page id {page_id!r} is already used by a scale, another page or the "
                       "baseline-only page; choose another")
            continue
        pages[page_id] = PageSpec(page_id, title, intro, show_if, randomise)
    return pages


def _check_pages_used(reader: FieldReader, root: SourceMap, pages: Mapping[str, PageSpec],
                      items: list[Item]) -> None:
    """Every declared page holds at least one item."""
    used = {item.page for item in items}
    for page_id in pages:
        if page_id not in used:
            reader.add(root.line_of("pages"), None, "pages",
                       f"page {page_id!r} has no items; remove it or put items on it")


def _check_scale_items(
    reader: FieldReader, scale: Scale, line: int | None, items: list[Item]
) -> None:
    """Check a scale's item count, reverse keys and wave coverage."""
    if len(items) < MIN_SCALE_ITEMS:
        reader.add(line, None, "scales",
                   f"scale {scale.id!r} has {len(items)} item(s); a scale needs at least "
                   f"{MIN_SCALE_ITEMS}")
    elif not any(item.reverse for item in items):
        reader.add(line, None, "scales",
                   f"scale {scale.id!r} has no reverse-keyed item; reword at least one item "
                   "to say the opposite and mark it 'reverse: true'")
    if len({item.baseline_only for item in items}) > 1:
        reader.add(line, None, "scales",
                   f"scale {scale.id!r} mixes baseline-only and every-wave items, so its "
                   "scores would not be comparable across waves")


def _optional_block(
    reader: FieldReader, root: SourceMap, key: str
) -> tuple[SourceMap | None, bool]:
    """The mapping under `key` (None if absent or not a mapping) and whether it was given."""
    if root.get(key) is None:
        return None, False
    return reader.mapping(root[key], root.line_of(key), None, key), True


def _baseline_module(
    reader: FieldReader, root: SourceMap, items: list[Item]
) -> BaselineModule | None:
    block, given = _optional_block(reader, root, "baseline_module")
    has_baseline_items = any(item.baseline_only and item.is_likert for item in items)
    if block is None:
        if has_baseline_items and not given:
            reader.add(root.line, None, "baseline_module",
                       "Likert items are marked baseline_only, so a baseline_module with a title "
                       "and intro for their page is required")
        return None
    reader.check_keys(block, ("title", "intro"), None)
    title = reader.text(block, "title", None)
    intro = reader.text(block, "intro", None)
    if not has_baseline_items:
        reader.add(root.line_of("baseline_module"), None, "baseline_module",
                   "a baseline_module is declared but no item is marked baseline_only among "
                   "the Likert items (other types sit on their own pages)")
    if title is None or intro is None:
        return None
    return BaselineModule(title, intro)


def _pairs_with(
    reader: FieldReader, root: SourceMap, audience: str | None, items: list[Item]
) -> PairTarget | None:
    block, given = _optional_block(reader, root, "pairs_with")
    if block is None:
        if any(item.pair for item in items) and not given:
            reader.add(root.line, None, "pairs_with",
                       "items name a 'pair', so 'pairs_with' must name the instrument and "
                       "version they pair with")
        return None
    if audience != "colleague":
        reader.add(root.line_of("pairs_with"), None, "pairs_with",
                   "only colleague instruments pair with another instrument")
    reader.check_keys(block, ("instrument", "version"), None)
    target = reader.identifier(block, "instrument", None)
    version = reader.integer(block, "version", None)
    if target is None or version is None:
        return None
    return PairTarget(target, version)


def parse_instrument(
    data: Any, file: str, themes: Mapping[str, Theme] | None
) -> tuple[Instrument | None, list[Problem]]:
    """Check parsed YAML and build the Instrument; None with the problems if anything is wrong."""
    reader = FieldReader(file)
    root = reader.mapping(data, None, None, "an instrument file")
    if root is None:
        return None, reader.problems
    reader.check_keys(root, _TOP_FIELDS, None)
    instrument_id = reader.identifier(root, "id", None)
    version = reader.integer(root, "version", None)
    if version is not None and version < 1:
        reader.add(root.line_of("version"), None, "version",
                   f"must be 1 or more, got {version}")
    title = reader.text(root, "title", None)
    audience = reader.text(root, "audience", None)
    if audience is not None and audience not in AUDIENCES:
        reader.add(root.line_of("audience"), None, "audience",
                   f"unknown audience {audience!r}; use one of {', '.join(AUDIENCES)} "
                   "(managers answer the colleague instrument)")
    intro = reader.text(root, "intro", None)
    time_frame = reader.text(root, "time_frame", None)
    not_applicable = reader.text(root, "not_applicable_label", None, required=False)
    options = _response_options(reader, root)
    randomised_lines: dict[str, int | None] = {}  # the line of each `randomise: true`
    scales, scale_lines = _scales(reader, root, randomised_lines)
    pages = _extra_pages(reader, root, scales, randomised_lines)
    items, complete = _items(reader, root, scales, themes, audience, pages)
    if complete:
        _check_pages_used(reader, root, pages, items)
    for scale_id, scale in list(scales.items()):
        members = [item for item in items if item.scale == scale_id]
        if complete:  # with items missing, counts would only repeat the items' own problems
            _check_scale_items(reader, scale, scale_lines[scale_id], members)
        scales[scale_id] = Scale(scale.id, scale.label, scale.description, scale.min_answered,
                                 tuple(item.id for item in members), scale.page_title,
                                 scale.show_if, scale.randomise)
    baseline_module = _baseline_module(reader, root, items)
    pairs_with = _pairs_with(reader, root, audience, items)
    if (reader.problems or instrument_id is None or version is None or title is None
            or audience is None or intro is None or time_frame is None):
        return None, reader.problems
    # The hash covers the English questionnaire that is scored, not its translations (see
    # instruments/translations.py), so adding a language keeps the version's hash.
    scored = {key: value for key, value in data.items() if key not in LANGUAGE_FIELDS}
    page_conditions = _page_conditions(scales, pages)
    items = [_with_page_condition(item, page_conditions) for item in items]
    instrument = Instrument(
        instrument_id, version, title, audience, intro, time_frame, options, not_applicable,
        scales, tuple(items), content_hash(scored), baseline_module, pairs_with,
        tuple(pages.values()), source=file,
    )
    check_conditions(reader, instrument, page_conditions)
    _check_randomised(reader, instrument, randomised_lines)
    if reader.problems:
        return None, reader.problems
    languages, translations = parse_translations(reader, root, source_texts(instrument))
    if reader.problems:
        return None, reader.problems
    return dataclasses.replace(instrument, languages=languages, translations=translations), []


def _page_conditions(scales: Mapping[str, Scale], pages: Mapping[str, PageSpec]
                     ) -> dict[str, tuple[Condition, str]]:
    """Each scale's and extra page's own condition, by page id."""
    found: dict[str, tuple[Condition, str]] = {}
    for scale in scales.values():
        if scale.show_if is not None:
            found[scale.id] = (scale.show_if, "scales")
    for page in pages.values():
        if page.show_if is not None:
            found[page.id] = (page.show_if, "pages")
    return found


def _with_page_condition(item: Item, conditions: Mapping[str, tuple[Condition, str]]) -> Item:
    """The item with its page's (or scale's) condition joined to its own."""
    page = item.scale if item.is_likert else item.page
    if page is None or page not in conditions:
        return item
    return dataclasses.replace(item, show_if=both(conditions[page][0], item.show_if))


def _check_randomised(reader: FieldReader, instrument: Instrument,
                      randomised_lines: Mapping[str, int | None]) -> None:
    """A shuffled page cannot hold a condition on another item of the same page: the item it
    depends on could come after it."""
    for page in instrument.pages(first_wave=True):
        if not page.randomise:
            continue
        on_page = {item.id for item in page.items}
        for item in page.items:
            if item.show_if is not None and item.show_if.item_ids() & on_page:
                reader.add(randomised_lines.get(page.id), item.id, "randomise",
                           f"page {page.id!r} is randomised, but item {item.id!r} depends on "
                           f"{', '.join(sorted(item.show_if.item_ids() & on_page))} on the "
                           "same page, which could then come after it")
