"""An instrument's texts in other languages: the `languages` and `translations` fields.

English is the source language. A file may declare more languages (`languages: [en, cy]`)
and give, under `translations: {cy: {...}}`, every text the respondent or the codebook shows,
keyed by the English field it translates (item ids, scale ids and option values stay the
same in every language, so answers and scores never depend on the language). A declared
language without a text for every English one is refused; texts not yet reviewed by a
qualified translator (`reviewed_by` and `reviewed_on` empty) are loaded, with a warning.

Translations are not part of `content_hash` (see instruments/versioning.py): adding or
correcting a translation does not change the questionnaire whose answers are scored, and each
language's texts have their own `text_hash`, shown in the codebook.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator, Mapping
from functools import lru_cache
from typing import Any

from .fields import FieldReader
from .languages import LANGUAGES, SOURCE_LANGUAGE
from .model import BaselineModule, Instrument, Item, NumberRange, PageSpec, ResponseOption, Scale, Translation
from .source import SourceMap
from .versioning import content_hash

#: The top-level fields that hold languages (left out of the content hash).
LANGUAGE_FIELDS = ("languages", "translations")
REVIEW_FIELDS = ("reviewed_by", "reviewed_on")


def source_texts(instrument: Instrument) -> dict[str, str]:
    """Every text of an instrument, keyed as a translation gives it (e.g. 'items.pw_id_1.text')."""
    texts = {"title": instrument.title, "intro": instrument.intro, "time_frame": instrument.time_frame}
    if instrument.not_applicable_label:
        texts["not_applicable_label"] = instrument.not_applicable_label
    for option in instrument.response_options:
        texts[f"response_options.{option.value}"] = option.label
    for scale in instrument.scales.values():
        texts[f"scales.{scale.id}.label"] = scale.label
        texts[f"scales.{scale.id}.description"] = scale.description
        if scale.page_title:
            texts[f"scales.{scale.id}.page_title"] = scale.page_title
    if instrument.baseline_module is not None:
        texts["baseline_module.title"] = instrument.baseline_module.title
        texts["baseline_module.intro"] = instrument.baseline_module.intro
    for page in instrument.extra_pages:
        texts[f"pages.{page.id}.title"] = page.title
        if page.intro:
            texts[f"pages.{page.id}.intro"] = page.intro
    for item in instrument.items:
        texts[f"items.{item.id}.text"] = item.text
        if item.help:
            texts[f"items.{item.id}.help"] = item.help
        if item.number is not None and item.number.unit:
            texts[f"items.{item.id}.unit"] = item.number.unit
        for option in item.options:
            texts[f"items.{item.id}.options.{option.value}"] = option.label
    return texts


def _flatten(value: Any, prefix: str, line: int | None) -> Iterator[tuple[str, Any, int | None]]:
    """(dotted key, value, line) of every leaf under a mapping; an item's bare string is its text."""
    if isinstance(value, SourceMap):
        for key, child in value.items():
            yield from _flatten(child, f"{prefix}.{key}" if prefix else str(key),
                                value.line_of(str(key)) or line)
    elif prefix.startswith("items.") and prefix.count(".") == 1:
        yield f"{prefix}.text", value, line
    else:
        yield prefix, value, line


def _languages(reader: FieldReader, root: SourceMap) -> tuple[str, ...]:
    """The declared languages: English first, each supported, none twice."""
    raw = root.get("languages")
    if raw is None:
        return (SOURCE_LANGUAGE,)
    line = root.line_of("languages")
    if not isinstance(raw, list) or not raw or raw[0] != SOURCE_LANGUAGE:
        reader.add(line, None, "languages",
                   f"must be a list of language codes starting with {SOURCE_LANGUAGE!r} (the "
                   f"source language), e.g. [en, cy]; got {raw!r}")
        return (SOURCE_LANGUAGE,)
    declared: list[str] = []
    for code in raw:
        if code not in LANGUAGES:
            reader.add(line, None, "languages",
                       f"unknown language {code!r}; PeerPulse supports {', '.join(LANGUAGES)}")
        elif code in declared:
            reader.add(line, None, "languages", f"{code!r} is listed twice")
        else:
            declared.append(str(code))
    return tuple(declared)


def _review(reader: FieldReader, block: SourceMap, language: str) -> tuple[str | None, str | None]:
    """The reviewer's name and the review's date (both None until reviewed)."""
    who = block.get("reviewed_by")
    when = block.get("reviewed_on")
    field = f"translations.{language}"
    if who is not None and (not isinstance(who, str) or not who.strip()):
        reader.add(block.line_of("reviewed_by"), None, f"{field}.reviewed_by",
                   "must be the reviewer's name, or empty until the texts are reviewed")
        who = None
    if when is not None and not isinstance(when, dt.date):
        reader.add(block.line_of("reviewed_on"), None, f"{field}.reviewed_on",
                   f"must be the review's date as YYYY-MM-DD, got {when!r}")
        when = None
    if (who is None) != (when is None):
        reader.add(block.line, None, field,
                   "give both reviewed_by and reviewed_on (the reviewer's name and the date), "
                   "or neither while the texts await review")
        return None, None
    return (str(who).strip() if who else None), (when.isoformat() if when else None)


def parse_translations(reader: FieldReader, root: SourceMap, english: Mapping[str, str]
                       ) -> tuple[tuple[str, ...], tuple[Translation, ...]]:
    """The declared languages and their texts; every missing or unknown text is a problem."""
    languages = _languages(reader, root)
    block = root.get("translations")
    given: dict[str, SourceMap] = {}
    if block is not None:
        mapping = reader.mapping(block, root.line_of("translations"), None, "translations")
        for code, texts in (mapping or {}).items():
            if code not in languages or code == SOURCE_LANGUAGE:
                reader.add(mapping.line_of(str(code)) if mapping else None, None, "translations",
                           f"texts for {code!r}, which 'languages' does not declare "
                           f"(it declares {', '.join(languages)})")
                continue
            checked = reader.mapping(texts, mapping.line_of(str(code)) if mapping else None, None,
                                     f"translations.{code}")
            if checked is not None:
                given[str(code)] = checked
    translations = []
    for code in languages[1:]:
        texts = given.get(code)
        if texts is None:
            reader.add(root.line_of("languages"), None, "languages",
                       f"declares {code!r} but there is no 'translations: {code}:' block with "
                       "its texts")
            continue
        translations.append(_translation(reader, code, texts, english))
    return languages, tuple(translations)


def _translation(reader: FieldReader, code: str, block: SourceMap, english: Mapping[str, str]
                 ) -> Translation:
    """One language's texts, checked against the English ones."""
    reviewed_by, reviewed_on = _review(reader, block, code)
    texts: dict[str, str] = {}
    body = SourceMap({k: v for k, v in block.items() if k not in REVIEW_FIELDS})
    body.line, body.key_lines = block.line, block.key_lines  # keep the line numbers
    for key, value, line in _flatten(body, "", block.line):
        item = key.split(".")[1] if key.startswith("items.") else None
        if key not in english:
            reader.add(line, item, f"translations.{code}.{key}",
                       f"there is no English text {key!r} to translate; check the id or field")
        elif not isinstance(value, str) or not value.strip():
            reader.add(line, item, f"translations.{code}.{key}",
                       f"the {code!r} text must be non-empty text, got {value!r}")
        else:
            texts[key] = " ".join(value.split())
    for key, text in english.items():
        if key not in texts and not any(p.field == f"translations.{code}.{key}"
                                         for p in reader.problems):
            item = key.split(".")[1] if key.startswith("items.") else None
            reader.add(block.line, item, f"translations.{code}.{key}",
                       f"no {code!r} text: the file declares {code!r}, so every text needs one "
                       f"(English: {text!r})")
    ordered = tuple(sorted(texts.items()))
    return Translation(code, ordered, content_hash(dict(ordered)), reviewed_by, reviewed_on)


def _item(item: Item, texts: Mapping[str, str]) -> Item:
    key = f"items.{item.id}"
    number = item.number
    if number is not None and number.unit:
        number = NumberRange(number.minimum, number.maximum, number.integer, texts[f"{key}.unit"])
    return dataclasses.replace(
        item, text=texts[f"{key}.text"],
        help=texts[f"{key}.help"] if item.help else None, number=number,
        options=tuple(ResponseOption(o.value, texts[f"{key}.options.{o.value}"]) for o in item.options),
    )


@lru_cache(maxsize=64)
def localised(instrument: Instrument, language: str) -> Instrument:
    """The instrument with its texts in `language` (unchanged when it has none in that language).

    Ids, values, keys and the content hash stay as they are; only the words change.
    """
    translation = instrument.translation(language)
    if translation is None or instrument.language == language:
        return instrument
    t = dict(translation.texts)
    scales = {
        sid: Scale(s.id, t[f"scales.{sid}.label"], t[f"scales.{sid}.description"], s.min_answered,
                   s.items, t[f"scales.{sid}.page_title"] if s.page_title else None,
                   s.show_if, s.randomise)
        for sid, s in instrument.scales.items()
    }
    baseline = instrument.baseline_module
    return dataclasses.replace(
        instrument, language=language, title=t["title"], intro=t["intro"],
        time_frame=t["time_frame"],
        not_applicable_label=t["not_applicable_label"] if instrument.not_applicable_label else None,
        response_options=tuple(ResponseOption(o.value, t[f"response_options.{o.value}"])
                               for o in instrument.response_options),
        scales=scales, items=tuple(_item(item, t) for item in instrument.items),
        baseline_module=(BaselineModule(t["baseline_module.title"], t["baseline_module.intro"])
                         if baseline else None),
        extra_pages=tuple(PageSpec(p.id, t[f"pages.{p.id}.title"],
                                   t[f"pages.{p.id}.intro"] if p.intro else None,
                                   p.show_if, p.randomise)
                          for p in instrument.extra_pages),
    )
