"""Check one parsed instrument file and build its Instrument; every fault becomes a Problem."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .fields import FieldReader
from .model import (
    AUDIENCES,
    BASELINE_PAGE_ID,
    BaselineModule,
    Instrument,
    Item,
    PairTarget,
    Problem,
    ResponseOption,
    Scale,
    Theme,
)
from .source import SourceMap
from .versioning import content_hash

MIN_SCALE_ITEMS = 3
_TOP_FIELDS = (
    "id", "version", "title", "audience", "intro", "time_frame", "response_options",
    "not_applicable_label", "scales", "items", "baseline_module", "pairs_with",
)
_SCALE_FIELDS = ("id", "label", "description", "min_answered", "page_title")
_ITEM_FIELDS = ("id", "text", "scale", "reverse", "theme", "baseline_only", "help", "pair")


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


def _scales(reader: FieldReader, root: SourceMap) -> tuple[dict[str, Scale], dict[str, int | None]]:
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
        if scale_id == BASELINE_PAGE_ID:
            reader.add(raw.line_of("id"), None, "id",
                       f"scale id {BASELINE_PAGE_ID!r} is reserved for the baseline-only page")
        elif scale_id is not None and scale_id in scales:
            reader.add(raw.line_of("id"), None, "id",
                       f"duplicate scale id {scale_id!r} (first on line {lines[scale_id]})")
        elif not (scale_id is None or label is None or description is None
                  or min_answered is None):
            scales[scale_id] = Scale(scale_id, label, description, min_answered, (), page_title)
            lines[scale_id] = raw.line
    return scales, lines


def _items(
    reader: FieldReader,
    root: SourceMap,
    scales: Mapping[str, Scale],
    themes: Mapping[str, Theme] | None,
    audience: str | None,
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
        reader.check_keys(raw, _ITEM_FIELDS, item_id)
        text = reader.text(raw, "text", item_id)
        scale = reader.identifier(raw, "scale", item_id)
        reverse = reader.flag(raw, "reverse", item_id, required=True)
        theme = reader.identifier(raw, "theme", item_id)
        baseline_only = reader.flag(raw, "baseline_only", item_id, required=False) or False
        help_text = reader.text(raw, "help", item_id, required=False)
        pair = reader.identifier(raw, "pair", item_id) if raw.get("pair") is not None else None
        if scale is not None and scale not in scales:
            reader.add(raw.line_of("scale"), item_id, "scale",
                       f"unknown scale {scale!r}; scales: {', '.join(scales) or 'none'}")
        if theme is not None and themes is not None and theme not in themes:
            reader.add(raw.line_of("theme"), item_id, "theme",
                       f"unknown theme {theme!r}; add it to themes.yaml or fix the spelling")
        if pair is not None and audience == "peer_worker":
            reader.add(raw.line_of("pair"), item_id, "pair",
                       "only colleague instruments pair their items with peer worker items")
        if pair is not None and pair in paired:
            reader.add(raw.line_of("pair"), item_id, "pair",
                       f"{pair!r} is already paired with item {paired[pair]}")
        elif pair is not None and item_id is not None:
            paired[pair] = item_id
        if item_id is not None and item_id in first_line:
            reader.add(raw.line_of("id"), item_id, "id",
                       f"duplicate item id (first on line {first_line[item_id]})")
            complete = False
            continue
        if item_id is None or text is None or scale is None or reverse is None or theme is None:
            complete = False
            continue
        first_line[item_id] = raw.line
        items.append(Item(item_id, text, scale, reverse, theme, baseline_only, help_text, pair,
                          line=raw.line))
    return items, complete


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
    has_baseline_items = any(item.baseline_only for item in items)
    if block is None:
        if has_baseline_items and not given:
            reader.add(root.line, None, "baseline_module",
                       "items are marked baseline_only, so a baseline_module with a title "
                       "and intro for their page is required")
        return None
    reader.check_keys(block, ("title", "intro"), None)
    title = reader.text(block, "title", None)
    intro = reader.text(block, "intro", None)
    if not has_baseline_items:
        reader.add(root.line_of("baseline_module"), None, "baseline_module",
                   "a baseline_module is declared but no item is marked baseline_only")
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
    scales, scale_lines = _scales(reader, root)
    items, complete = _items(reader, root, scales, themes, audience)
    for scale_id, scale in list(scales.items()):
        members = [item for item in items if item.scale == scale_id]
        if complete:  # with items missing, counts would only repeat the items' own problems
            _check_scale_items(reader, scale, scale_lines[scale_id], members)
        scales[scale_id] = Scale(scale.id, scale.label, scale.description, scale.min_answered,
                                 tuple(item.id for item in members), scale.page_title)
    baseline_module = _baseline_module(reader, root, items)
    pairs_with = _pairs_with(reader, root, audience, items)
    if (reader.problems or instrument_id is None or version is None or title is None
            or audience is None or intro is None or time_frame is None):
        return None, reader.problems
    instrument = Instrument(
        instrument_id, version, title, audience, intro, time_frame, options, not_applicable,
        scales, tuple(items), content_hash(data), baseline_module, pairs_with, source=file,
    )
    return instrument, []
