"""Generate the codebook (CSV and Markdown) from the instrument files; never edit it by hand."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from . import safe_csv
from .answers import length_hint, range_hint
from .languages import LANGUAGES, SOURCE_LANGUAGE, english_name, language_name
from .model import CHOICE, NUMBER, TEXT, Instrument, Item, Theme
from .translations import localised

#: The languages besides English that the codebook gives a column to (every supported one).
OTHER_LANGUAGES = tuple(code for code in LANGUAGES if code != SOURCE_LANGUAGE)
CSV_COLUMNS = (
    "instrument", "version", "content_hash", "audience", "position", "item_id", "type",
    "text", "page", "scale", "scale_label", "reverse", "theme", "theme_label", "baseline_only",
    "pair", "response_options", "not_applicable", "min_answered", "range", "unit",
    "max_length", "help", "languages", "show_if", "show_if_words", "randomised",
    *(f"{column}_{code}" for code in OTHER_LANGUAGES
      for column in ("text", "response_options", "help", "review")),
)


def review_status(instrument: Instrument, language: str) -> str:
    """Whether a language's texts were reviewed: by whom and when, or that they need review."""
    translation = instrument.translation(language)
    if translation is None:
        return ""
    if translation.reviewed:
        return f"reviewed by {translation.reviewed_by} on {translation.reviewed_on}"
    return (f"NEEDS REVIEW by a qualified {english_name(language)} "
            "translator (draft, not yet reviewed)")


def response_codes(instrument: Instrument) -> str:
    """The response options as '1=Strongly disagree; ...; 5=Strongly agree'."""
    return "; ".join(f"{option.value}={option.label}" for option in instrument.response_options)


def item_answers(instrument: Instrument, item: Item) -> str:
    """What an item's answers are, in words: its codes, range or length (not scored if not Likert)."""
    if item.type == CHOICE:
        codes = "; ".join(f"{o.value}={o.label}" for o in item.options)
        return f"single choice: {codes}"
    if item.type == NUMBER:
        return f"number: {range_hint(item)}"
    if item.type == TEXT:
        return f"free text: {length_hint(item)}"
    return response_codes(instrument)


def codebook_rows(
    instruments: Iterable[Instrument], themes: Mapping[str, Theme]
) -> list[dict[str, str]]:
    """One row per item of every instrument, with everything needed to read its answers."""
    rows = []
    for instrument in instruments:
        randomised = {i.id for p in instrument.pages(first_wave=True) if p.randomise
                      for i in p.items}
        for position, item in enumerate(instrument.items, start=1):
            scale = instrument.scales[item.scale] if item.scale is not None else None
            number = item.number
            rows.append({
                "instrument": instrument.id,
                "version": str(instrument.version),
                "content_hash": instrument.content_hash,
                "audience": instrument.audience,
                "position": str(position),
                "item_id": item.id,
                "type": item.type,
                "text": item.text,
                "page": item.page or "",
                "scale": item.scale or "",
                "scale_label": scale.label if scale else "",
                "reverse": "yes" if item.reverse else "no",
                "theme": item.theme,
                "theme_label": themes[item.theme].label if item.theme in themes else "",
                "baseline_only": "yes" if item.baseline_only else "no",
                "pair": item.pair or "",
                "response_options": item_answers(instrument, item),
                "not_applicable": (
                    f"{instrument.not_applicable_label} (stored as missing)"
                    if instrument.not_applicable_label and item.is_likert else ""
                ),
                "min_answered": f"{scale.min_answered:g}" if scale else "",
                "range": (f"{number.minimum:g}-{number.maximum:g}"
                          f"{' whole numbers' if number.integer else ''}" if number else ""),
                "unit": (number.unit or "") if number else "",
                "max_length": str(item.max_length) if item.max_length else "",
                "help": item.help or "",
                "languages": " ".join(instrument.languages),
                "show_if": item.show_if.redcap() if item.show_if else "",
                "show_if_words": item.show_if.words(answer_labels(instrument)) if item.show_if else "",
                "randomised": "yes" if item.id in randomised else "no",
                **_translated_columns(instrument, item),
            })
    return rows


def answer_labels(instrument: Instrument) -> dict[str, dict[float, str]]:
    """Each Likert and choice item's answer labels by value, to put conditions in words."""
    scale = {float(o.value): o.label for o in instrument.response_options}
    return {item.id: ({float(o.value): o.label for o in item.options} if item.options else scale)
            for item in instrument.items if item.is_likert or item.options}


def _translated_columns(instrument: Instrument, item: Item) -> dict[str, str]:
    """An item's text, answers and help in each other language (empty where it has none)."""
    columns = {}
    for code in OTHER_LANGUAGES:
        has = code in instrument.languages
        worded = localised(instrument, code)
        other = worded.item(item.id)
        columns[f"text_{code}"] = other.text if has else ""
        columns[f"response_options_{code}"] = item_answers(worded, other) if has else ""
        columns[f"help_{code}"] = (other.help or "") if has else ""
        columns[f"review_{code}"] = review_status(instrument, code)
    return columns


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _table(header: list[str], rows: Iterable[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(value) for value in row) + " |" for row in rows]
    return lines


def scale_themes(instrument: Instrument, scale_id: str) -> list[str]:
    """The themes a scale's items name, in item order without repeats."""
    return list(dict.fromkeys(instrument.item(i).theme for i in instrument.scales[scale_id].items))


def _instrument_section(instrument: Instrument, themes: Mapping[str, Theme]) -> list[str]:
    lines = [
        f"## {instrument.title} ({instrument.key})",
        "",
        f"- Audience: `{instrument.audience}`",
        f"- Content hash: `{instrument.content_hash}`",
        f"- Items: {len(instrument.items)} at the first wave, "
        f"{len(instrument.items_for(first_wave=False))} at later waves",
        f"- Time frame: {instrument.time_frame}",
        f"- Response options: {response_codes(instrument)}",
        f"- Languages: {', '.join(f'{language_name(c)} ({c})' for c in instrument.languages)}",
    ]
    for translation in instrument.translations:
        lines.append(f"  - {translation.language}: {review_status(instrument, translation.language)}; "
                     f"texts hash `{translation.text_hash[:12]}`")
    if instrument.not_applicable_label:
        lines.append(f"- '{instrument.not_applicable_label}' is stored as missing, not scored.")
    if instrument.pairs_with:
        target = instrument.pairs_with
        lines.append(f"- `pair` names the item of {target.instrument} v{target.version} "
                     "with the same meaning.")
    low, high = instrument.values[0], instrument.values[-1]
    lines += ["", "Scale score: the mean of the scale's items after reverse keying "
              f"(reversed value = {low + high} - value), when at least the stated share "
              "of its items is answered; otherwise missing.", "",
              "### Scales", ""]
    lines += _table(
        ["scale", "label", "items", "reverse-keyed", "min. share answered", "themes",
         "description"],
        ([s.id, s.label, str(len(s.items)),
          str(sum(instrument.item(i).reverse for i in s.items)), f"{s.min_answered:g}",
          ", ".join(scale_themes(instrument, s.id)), s.description]
         for s in instrument.scales.values()),
    )
    lines += ["", "### Items", ""]
    lines += _table(
        ["item", "text", "scale", "reverse", "theme", "baseline only", "pair"],
        ([item.id, item.text, item.scale or "", "yes" if item.reverse else "",
          f"{item.theme} ({themes[item.theme].label})" if item.theme in themes else item.theme,
          "yes" if item.baseline_only else "", item.pair or ""]
         for item in instrument.likert_items),
    )
    shuffled = [p.id for p in instrument.pages(first_wave=True) if p.randomise]
    if shuffled:
        lines += ["", "Randomised pages (items shuffled for each response, the order fixed when "
                  f"it starts and exported as ITEM_pos): {', '.join(shuffled)}."]
    conditional = [item for item in instrument.items if item.show_if is not None]
    if conditional:
        labels = answer_labels(instrument)
        lines += ["", "### Conditional questions", "",
                  "Asked only when the condition holds (the item's own, its scale's or its "
                  "page's); otherwise the item is \"not asked\": its own kind of missing, never "
                  "counted against a scale's minimum share.", ""]
        lines += _table(["item", "asked when", "as written (REDCap branching logic)"],
                        ([item.id, item.show_if.words(labels), item.show_if.redcap()]
                         for item in conditional if item.show_if is not None))
    for translation in instrument.translations:
        lines += _language_section(instrument, translation.language)
    others = [item for item in instrument.items if not item.is_likert]
    if others:
        lines += ["", "### Other questions (not scored)", "",
                  "Background and free-text questions: stored as answered, never part of a "
                  "scale score. Free text is shown only to researchers.", ""]
        lines += _table(
            ["item", "type", "text", "answers", "page", "theme", "baseline only", "help"],
            ([item.id, item.type, item.text, item_answers(instrument, item), item.page or "",
              f"{item.theme} ({themes[item.theme].label})" if item.theme in themes else item.theme,
              "yes" if item.baseline_only else "", item.help or ""]
             for item in others),
        )
    return [*lines, ""]


def _language_section(instrument: Instrument, language: str) -> list[str]:
    """Every item's text, answers and help in another language, with its review status."""
    worded = localised(instrument, language)
    name = english_name(language)
    lines = ["", f"### {name} ({language}) texts", "",
             f"Status: {review_status(instrument, language)}. Item ids and answer values are "
             "the same in every language.", "",
             f"- Title: {worded.title}", f"- Time frame: {worded.time_frame}",
             f"- Response options: {response_codes(worded)}", ""]
    lines += _table(
        ["item", f"text ({language})", f"answers ({language})", f"help ({language})"],
        ([item.id, item.text, item_answers(worded, item) if not item.is_likert else "",
          item.help or ""] for item in worded.items),
    )
    return lines


def codebook_markdown(instruments: Iterable[Instrument], themes: Mapping[str, Theme]) -> str:
    """The codebook as one Markdown page: each instrument's scales and items, then the themes."""
    instruments = list(instruments)
    lines = ["# PeerPulse codebook", "",
             "Generated by `python -m instruments codebook` from the instrument files; "
             "do not edit by hand.", ""]
    for instrument in instruments:
        lines += _instrument_section(instrument, themes)
    used: dict[str, list[str]] = {}
    for instrument in instruments:
        for item in instrument.items:
            used.setdefault(item.theme, []).append(item.id)
    lines += ["## Themes", ""]
    lines += _table(
        ["theme", "kind", "parent", "label", "description", "items"],
        ([t.id, t.kind, t.parent or "", t.label, t.description, ", ".join(used.get(t.id, []))]
         for t in themes.values()),
    )
    return "\n".join(lines) + "\n"


def write_codebook(
    instruments: Iterable[Instrument], themes: Mapping[str, Theme], out_dir: Path
) -> list[Path]:
    """Write codebook.csv and codebook.md into `out_dir` (created if needed); return the paths."""
    instruments = list(instruments)
    out_dir.mkdir(parents=True, exist_ok=True)
    csv_path = out_dir / "codebook.csv"
    with csv_path.open("w", newline="", encoding="utf-8") as handle:
        safe_csv.write_dicts(handle, CSV_COLUMNS, codebook_rows(instruments, themes))
    md_path = out_dir / "codebook.md"
    md_path.write_text(codebook_markdown(instruments, themes), encoding="utf-8")
    return [csv_path, md_path]
