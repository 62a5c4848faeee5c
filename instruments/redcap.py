"""REDCap data dictionaries: write one for an instrument version, and draft an instrument from one.

A REDCap project mirrors a PeerPulse questionnaire by importing the dictionary (REDCap's
standard 18 columns). Each item is a radio field; "does not apply" is the choice ``-9``.
PeerPulse's own facts (scale, theme, reverse key, pairing) ride in the Field Annotation
as ``@PEERPULSE key=value ...``, so a dictionary written here drafts back into a file that
``python -m instruments check`` accepts. A dictionary from elsewhere drafts too, with the
scale taken from its section headers and a theme to choose.

Item types map both ways: a Likert item is a radio field with the response scale; a choice
item a radio field with its own options (``@PEERPULSE type=choice``); a number item a text
field validated as ``integer`` or ``number`` with its min and max (the unit in the Field
Note); a free-text item a ``notes`` field with REDCap's ``@CHARLIMIT``. Drafting back, a
radio or dropdown field annotated ``type=choice`` becomes a choice item, a text field with
integer/number validation a number item, and any other text or notes field a free-text item.
Pure Python: no Flask, no database.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from . import safe_csv
from .conditions import ROLE_FIELD, ROLES
from .model import CHOICE, NUMBER, TEXT, Instrument, InstrumentError, Item, Problem
from .redcap_logic import LogicError, parse_logic

COLUMNS: tuple[str, ...] = (
    "Variable / Field Name", "Form Name", "Section Header", "Field Type", "Field Label",
    "Choices, Calculations, OR Slider Labels", "Field Note",
    "Text Validation Type OR Show Slider Number", "Text Validation Min", "Text Validation Max",
    "Identifier?", "Branching Logic (Show field only if...)", "Required Field?",
    "Custom Alignment", "Question Number (surveys only)", "Matrix Group Name", "Matrix Ranking?",
    "Field Annotation",
)
BRANCHING = COLUMNS[11]
ANNOTATION = COLUMNS[17]
NOT_APPLICABLE_CODE = -9
RECORD_ID = "record_id"
TAG = "@PEERPULSE"
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_NA_LABELS = ("does not apply", "not applicable", "n/a")
CHOOSE_THEME = "choose_a_theme"
#: The length limit of a drafted free-text item when the dictionary gives no @CHARLIMIT.
DEFAULT_TEXT_LENGTH = 1000
_CHARLIMIT = re.compile(r"@CHARLIMIT\s*=\s*'?(\d+)'?")
#: The longest cell a dictionary may hold (characters), and the largest file (bytes).
MAX_CELL = 10_000
MAX_FILE = 5_000_000
#: REDCap's yes/no and true/false fields, as PeerPulse choice items.
_TWO_WAY = {"yesno": ((1, "Yes"), (0, "No")), "truefalse": ((1, "True"), (0, "False"))}


def form_name(instrument: Instrument) -> str:
    """REDCap's instrument (form) name for an instrument version, e.g. peer_worker_v1."""
    return f"{instrument.id}_v{instrument.version}"


def _annotation(**facts: object) -> str:
    """The @PEERPULSE annotation carrying PeerPulse's facts about a field."""
    return " ".join([TAG, *(f"{k}={v}" for k, v in facts.items() if v not in (None, ""))])


def dictionary_rows(instrument: Instrument) -> list[dict[str, str]]:
    """The dictionary of one instrument version: a record id, then one radio field per item."""
    choices = [f"{o.value}, {o.label}" for o in instrument.response_options]
    if instrument.not_applicable_label:
        choices.append(f"{NOT_APPLICABLE_CODE}, {instrument.not_applicable_label}")
    form = form_name(instrument)
    pairs = (f"{instrument.pairs_with.instrument}:{instrument.pairs_with.version}"
             if instrument.pairs_with else None)
    rows = [{**dict.fromkeys(COLUMNS, ""), COLUMNS[0]: RECORD_ID, COLUMNS[1]: form,
             COLUMNS[3]: "text", COLUMNS[4]: "Participant study code (pseudonymous)",
             COLUMNS[17]: _annotation(instrument=instrument.id, version=instrument.version,
                                      audience=instrument.audience, pairs_with=pairs)}]
    if any(item.show_if is not None and item.show_if.uses_role() for item in instrument.items):
        # Conditions on the role name this field; PeerPulse fills it in, nobody answers it.
        rows.append({**dict.fromkeys(COLUMNS, ""), COLUMNS[0]: ROLE_FIELD, COLUMNS[1]: form,
                     COLUMNS[3]: "radio", COLUMNS[4]: "Participant's role in the team",
                     COLUMNS[5]: " | ".join(f"{r}, {r.replace('_', ' ').capitalize()}"
                                            for r in ROLES),
                     COLUMNS[17]: f"@HIDDEN {_annotation(type='role')}"})
    seen: set[str] = set()
    pages = {page.id: page for page in instrument.extra_pages}
    for item in instrument.items:
        if not item.is_likert:
            header = ""
            if item.page is not None and item.page not in seen:
                header = pages[item.page].title
                seen.add(item.page)
            rows.append(_other_row(item, form, header))
            rows[-1][BRANCHING] = item.show_if.redcap() if item.show_if else ""
            continue
        assert item.scale is not None
        scale = instrument.scales[item.scale]
        header = ""
        if item.scale not in seen:
            header = scale.page_title or scale.label
            seen.add(item.scale)
        rows.append({
            **dict.fromkeys(COLUMNS, ""),
            COLUMNS[0]: item.id, COLUMNS[1]: form, COLUMNS[2]: header, COLUMNS[3]: "radio",
            COLUMNS[4]: item.text, COLUMNS[5]: " | ".join(choices), COLUMNS[6]: item.help or "",
            COLUMNS[17]: _annotation(scale=item.scale, theme=item.theme,
                                     reverse="yes" if item.reverse else "no",
                                     baseline_only="yes" if item.baseline_only else None,
                                     pair=item.pair),
            BRANCHING: item.show_if.redcap() if item.show_if else "",
        })
    return rows


def _other_row(item: Item, form: str, header: str) -> dict[str, str]:
    """A choice (radio), number (validated text) or free-text (notes) item's dictionary row."""
    row = {**dict.fromkeys(COLUMNS, ""), COLUMNS[0]: item.id, COLUMNS[1]: form,
           COLUMNS[2]: header, COLUMNS[4]: item.text, COLUMNS[6]: item.help or ""}
    facts = _annotation(type=item.type, page=item.page, theme=item.theme,
                        baseline_only="yes" if item.baseline_only else None)
    if item.type == CHOICE:
        row[COLUMNS[3]] = "radio"
        row[COLUMNS[5]] = " | ".join(f"{o.value}, {o.label}" for o in item.options)
    elif item.type == NUMBER and item.number is not None:
        span = item.number
        row[COLUMNS[3]] = "text"
        row[COLUMNS[7]] = "integer" if span.integer else "number"
        row[COLUMNS[8]], row[COLUMNS[9]] = f"{span.minimum:g}", f"{span.maximum:g}"
        if span.unit:
            row[COLUMNS[6]] = " ".join(filter(None, [span.unit, item.help]))
            facts += f" unit={span.unit.replace(' ', '_')}"
    else:
        row[COLUMNS[3]] = "notes"
        facts = f"{facts} @CHARLIMIT={item.max_length}"
    row[COLUMNS[17]] = facts
    return row


def dictionary_csv(instrument: Instrument) -> str:
    """The dictionary as CSV text, as REDCap's "Upload data dictionary" reads it.

    A Field Annotation holds action tags (`@HIDDEN`, `@PEERPULSE`), which begin with `@`, a
    formula prefix. The safe writer's leading quote would hide them from REDCap, which finds a
    tag only at the start of the annotation or after white space; so the annotation is written
    after one space instead. A spreadsheet reads that cell as text, and REDCap still finds its
    tags.
    """
    rows = dictionary_rows(instrument)
    for row in rows:
        if row[ANNOTATION].startswith("@"):
            row[ANNOTATION] = " " + row[ANNOTATION]
    return safe_csv.dicts_text(COLUMNS, rows, lineterminator="\n")


@dataclass
class _Draft:
    """What the rows say, gathered before the YAML is written."""

    facts: dict[str, str] = field(default_factory=dict)
    options: list[tuple[int, str]] | None = None
    options_line: int = 0
    not_applicable: str | None = None
    scales: dict[str, str] = field(default_factory=dict)
    items: list[dict[str, Any]] = field(default_factory=list)
    pages: dict[str, str] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)


def _facts(annotation: str) -> dict[str, str]:
    """The key=value facts after @PEERPULSE in a Field Annotation (none if there is no tag)."""
    if TAG not in annotation:
        return {}
    tail = annotation.split(TAG, 1)[1].split("@", 1)[0]
    return dict(part.split("=", 1) for part in tail.split() if "=" in part)


def _slug(text: str) -> str:
    """An id from a heading: lower case words joined by underscores."""
    words = re.findall(r"[a-z0-9]+", text.lower())
    slug = "_".join(words)[:40]
    return slug if slug and slug[0].isalpha() else f"scale_{slug}".rstrip("_")


def _choices(text: str, file: str, line: int, problems: list[Problem]
             ) -> list[tuple[int, str]] | None:
    """Parse "1, Label | 2, Label"; each code must be a whole number."""
    options = []
    for part in (p.strip() for p in text.split("|")):
        code, sep, label = part.partition(",")
        try:
            value = int(code.strip())
        except ValueError:
            value = None
        if not sep or value is None or not label.strip():
            problems.append(Problem(file, line, None, COLUMNS[5],
                                    f"choice {part!r} is not 'number, label' (e.g. '1, Disagree')"))
            return None
        options.append((value, label.strip()))
    return options


def draft_from_dictionary(path: Path, theme: str | None = None) -> str:
    """Read a REDCap dictionary and return an instrument YAML draft; InstrumentError if broken."""
    file = str(path)
    try:
        if path.stat().st_size > MAX_FILE:
            raise InstrumentError([Problem(file, None, None, None,
                                           f"the file has {path.stat().st_size} bytes; a data "
                                           f"dictionary may have at most {MAX_FILE}")])
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InstrumentError([Problem(file, None, None, None, f"cannot read the file ({exc})")]) from None
    try:
        return _draft(file, text, path, theme)
    except csv.Error as exc:  # a cell over the csv module's own limit, or broken quoting
        line, message = _csv_line(exc)
        raise InstrumentError([Problem(file, line, None, None,
                                       f"cannot read the CSV: {message} (a cell may hold at "
                                       f"most {MAX_CELL} characters)")]) from None


def _csv_line(exc: csv.Error) -> tuple[int | None, str]:
    """The line a csv.Error happened on (`line N: ...`, as _draft raises it) and its message."""
    found = re.match(r"line (\d+): (.*)", str(exc))
    return (int(found.group(1)), found.group(2)) if found else (None, str(exc))


def _draft(file: str, text: str, path: Path, theme: str | None) -> str:
    """Read the dictionary's rows (csv.Error escapes: the caller locates it)."""
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise csv.Error(f"line 1: {exc}") from None
    if header is None or [h.strip() for h in header[:len(COLUMNS)]] != list(COLUMNS):
        raise InstrumentError([Problem(file, 1, None, None,
                                       "the header is not REDCap's data dictionary header; its "
                                       f"{len(COLUMNS)} columns are: {', '.join(COLUMNS)}")])
    problems: list[Problem] = []
    draft = _Draft()
    names: dict[str, int] = {}
    known: dict[str, str] = {}
    checkbox: set[str] = set()
    while True:
        try:
            row = next(reader, None)
        except csv.Error as exc:
            raise csv.Error(f"line {reader.line_num}: {exc}") from None
        if row is None:
            break
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            problems.append(Problem(file, line, None, None,
                                    f"{len(row)} columns where the header has {len(header)}"))
            continue
        long = [(n, c) for n, c in enumerate(row, start=1) if len(c) > MAX_CELL]
        if long:
            number, cell = long[0]
            problems.append(Problem(file, line, None, COLUMNS[number - 1] if number <= 18 else None,
                                    f"column {number}: the cell has {len(cell)} characters; "
                                    f"at most {MAX_CELL} are allowed"))
            continue
        cells = dict(zip(COLUMNS, (c.strip() for c in row), strict=False))
        before = len(draft.items)
        _read_row(cells, file, line, draft, names, problems)
        added = draft.items[before:]
        logic = cells[BRANCHING]
        if logic and added:
            try:
                condition = parse_logic(logic, known, checkbox)
            except LogicError as exc:
                problems.append(Problem(file, line, cells[COLUMNS[0]], BRANCHING,
                                        f"column {exc.column} of the logic: {exc}"))
            else:
                for item in added:
                    item["show_if"] = condition
        for item in added:
            known.setdefault(cells[COLUMNS[0]], item["id"])
        if cells[COLUMNS[3]] == "checkbox" and added:
            checkbox.add(cells[COLUMNS[0]])
    if not draft.items and not problems:
        problems.append(Problem(file, None, None, COLUMNS[3],
                                "no radio or dropdown fields: nothing to turn into items"))
    if problems:
        raise InstrumentError(problems)
    return _yaml(draft, path, theme)


def _read_row(row: dict[str, str], file: str, line: int, draft: _Draft, names: dict[str, int],
              problems: list[Problem]) -> None:
    """Check one dictionary row and add what it says to the draft."""
    name, kind = row[COLUMNS[0]], row[COLUMNS[3]]
    if not _NAME.match(name):
        problems.append(Problem(file, line, None, COLUMNS[0],
                                f"{name!r} is not a REDCap variable name (lower case letters, "
                                "digits and _, starting with a letter)"))
        return
    if name in names:
        problems.append(Problem(file, line, name, COLUMNS[0],
                                f"variable {name!r} is already defined on line {names[name]}"))
        return
    names[name] = line
    facts = _facts(row[COLUMNS[17]])
    if name == RECORD_ID or (not draft.facts and "instrument" in facts):
        draft.facts.update(facts)
        draft.facts.setdefault("form", row[COLUMNS[1]])
        return
    if facts.get("type") == "role" or name == ROLE_FIELD:
        return  # the role: PeerPulse knows it, conditions name it as [peerpulse_role]
    if kind in ("text", "notes") or (kind in ("radio", "dropdown")
                                     and facts.get("type") == CHOICE):
        _other_item(row, file, line, facts, draft, problems)
        return
    if kind in _TWO_WAY or kind == "checkbox":
        _two_way_items(row, file, line, facts, draft, problems)
        return
    if kind not in ("radio", "dropdown"):
        draft.skipped.append(f"{name} ({kind or 'no field type'})")
        return
    if not row[COLUMNS[4]]:
        problems.append(Problem(file, line, name, COLUMNS[4], "the field has no label (the question)"))
        return
    options = _choices(row[COLUMNS[5]], file, line, problems)
    if options is None:
        return
    na = [o for o in options if o[0] == NOT_APPLICABLE_CODE or o[1].lower() in _NA_LABELS]
    scale_options = [o for o in options if o not in na]
    if na:
        draft.not_applicable = na[0][1]
    if draft.options is None:
        draft.options, draft.options_line = scale_options, line
    elif scale_options != draft.options:
        problems.append(Problem(file, line, name, COLUMNS[5],
                                "the choices differ from those on line "
                                f"{draft.options_line}; an instrument has one response scale"))
        return
    draft.facts.setdefault("form", row[COLUMNS[1]])
    heading = row[COLUMNS[2]]
    scale = facts.get("scale") or (_slug(heading) if heading else None) or \
        (list(draft.scales)[-1] if draft.scales else _slug(row[COLUMNS[1]] or "items"))
    if scale not in draft.scales:
        draft.scales[scale] = heading or scale.replace("_", " ").capitalize()
    item: dict[str, Any] = {"id": name, "text": row[COLUMNS[4]], "scale": scale,
                            "reverse": facts.get("reverse") == "yes",
                            "theme": facts.get("theme") or "", "line": line}
    if facts.get("baseline_only") == "yes":
        item["baseline_only"] = True
    if row[COLUMNS[6]]:
        item["help"] = row[COLUMNS[6]]
    if facts.get("pair"):
        item["pair"] = facts["pair"]
    draft.items.append(item)


def _page_of(row: dict[str, str], file: str, line: int, facts: dict[str, str], draft: _Draft,
             problems: list[Problem]) -> str | None:
    """The page a non-Likert field goes on (its @PEERPULSE page, its section header, or the
    page before), noted in the draft; None, with a problem, when the field has no label."""
    if not row[COLUMNS[4]]:
        problems.append(Problem(file, line, row[COLUMNS[0]], COLUMNS[4],
                                "the field has no label (the question)"))
        return None
    heading = row[COLUMNS[2]]
    page = facts.get("page") or (_slug(heading) if heading else None) or \
        (list(draft.pages)[-1] if draft.pages else "other_questions")
    draft.pages.setdefault(page, heading or page.replace("_", " ").capitalize())
    return page


def _other_item(row: dict[str, str], file: str, line: int, facts: dict[str, str], draft: _Draft,
                problems: list[Problem]) -> None:
    """A choice, number or free-text item from a radio, validated text or notes field."""
    name, kind = row[COLUMNS[0]], row[COLUMNS[3]]
    page = _page_of(row, file, line, facts, draft, problems)
    if page is None:
        return
    item: dict[str, Any] = {"id": name, "type": TEXT, "text": row[COLUMNS[4]],
                            "theme": facts.get("theme") or "", "page": page, "line": line}
    validation = row[COLUMNS[7]].lower()
    note = row[COLUMNS[6]]
    if kind in ("radio", "dropdown"):
        options = _choices(row[COLUMNS[5]], file, line, problems)
        if options is None:
            return
        item.update(type=CHOICE, options=[{"value": v, "label": label} for v, label in options])
    elif kind == "text" and validation in ("integer", "number"):
        item["type"] = NUMBER
        for key, column in (("min", COLUMNS[8]), ("max", COLUMNS[9])):
            try:
                item[key] = float(row[column]) if validation == "number" else int(row[column])
            except ValueError:
                problems.append(Problem(file, line, name, column,
                                        f"{row[column]!r} is not a number; a number item needs "
                                        "its min and max"))
                return
        item["integer"] = validation == "integer"
        unit = facts.get("unit", "").replace("_", " ")
        if unit:
            item["unit"] = unit
            note = note.removeprefix(unit).strip()
    else:
        found = _CHARLIMIT.search(row[COLUMNS[17]])
        item["max_length"] = int(found.group(1)) if found else DEFAULT_TEXT_LENGTH
    if facts.get("baseline_only") == "yes":
        item["baseline_only"] = True
    if note:
        item["help"] = note
    draft.facts.setdefault("form", row[COLUMNS[1]])
    draft.items.append(item)


def _two_way_items(row: dict[str, str], file: str, line: int, facts: dict[str, str],
                   draft: _Draft, problems: list[Problem]) -> None:
    """A yes/no or true/false field as a choice item (1 yes/true, 0 no/false, REDCap's
    codes); a checkbox field as one ticked-or-not choice item per option (`field___code`,
    REDCap's own export names)."""
    name, kind = row[COLUMNS[0]], row[COLUMNS[3]]
    page = _page_of(row, file, line, facts, draft, problems)
    if page is None:
        return
    draft.facts.setdefault("form", row[COLUMNS[1]])
    base: dict[str, Any] = {"type": CHOICE, "theme": facts.get("theme") or "", "page": page,
                            "line": line}
    if row[COLUMNS[6]]:
        base["help"] = row[COLUMNS[6]]
    if kind in _TWO_WAY:
        options = [{"value": v, "label": label} for v, label in _TWO_WAY[kind]]
        draft.items.append({"id": name, "text": row[COLUMNS[4]], **base, "options": options})
        return
    for part in (p.strip() for p in row[COLUMNS[5]].split("|")):
        code, sep, label = part.partition(",")
        code = code.strip().lower()
        if not sep or not re.fullmatch(r"[a-z0-9_]+", code) or not label.strip():
            problems.append(Problem(file, line, name, COLUMNS[5],
                                    f"checkbox choice {part!r} is not 'code, label'"))
            return
        options = [{"value": 1, "label": "Ticked"}, {"value": 0, "label": "Not ticked"}]
        draft.items.append({"id": f"{name}___{code}", "text": f"{row[COLUMNS[4]]}: {label.strip()}",
                            **base, "options": options})


def _comment(text: str) -> str:
    """One YAML comment line: line breaks and control characters in the text become spaces,
    so nothing from a cell can end the comment and become YAML."""
    return "# " + " ".join("".join(c if c.isprintable() else " " for c in text).split())


def _yaml(draft: _Draft, path: Path, theme: str | None) -> str:
    """Write the draft as instrument YAML (comments say what was left out and what to finish)."""
    form = draft.facts.get("form", path.stem)
    match = re.match(r"^(.*)_v(\d+)$", form)
    ident = draft.facts.get("instrument") or _slug(match.group(1) if match else form)
    version = int(draft.facts.get("version") or (match.group(2) if match else 1))
    doc: dict[str, Any] = {
        "id": ident, "version": version,
        "title": ident.replace("_", " ").capitalize(),
        "audience": draft.facts.get("audience", "peer_worker"),
        "intro": "Draft from a REDCap data dictionary: write the introduction respondents read.",
        "time_frame": "Draft: say what period the questions are about.",
        "response_options": [{"value": v, "label": label} for v, label in draft.options or []],
    }
    if draft.not_applicable:
        doc["not_applicable_label"] = draft.not_applicable
    if "pairs_with" in draft.facts:
        target, _, target_version = draft.facts["pairs_with"].partition(":")
        doc["pairs_with"] = {"instrument": target, "version": int(target_version or 1)}
    doc["scales"] = [{"id": s, "label": label, "description": f"Draft: describe the {label} scale.",
                      "min_answered": 0.6} for s, label in draft.scales.items()]
    if draft.pages:
        doc["pages"] = [{"id": p, "title": title} for p, title in draft.pages.items()]
    if any(i.get("baseline_only") and "scale" in i for i in draft.items):
        doc["baseline_module"] = {"title": "When you started",
                                  "intro": "Draft: introduce the questions asked only once."}
    doc["items"] = []
    for item in draft.items:
        entry = {k: v for k, v in item.items() if k != "line"}
        entry["theme"] = entry["theme"] or theme or CHOOSE_THEME
        doc["items"].append(entry)
    notes = [_comment(f"Instrument draft from the REDCap data dictionary {path.name}."),
             _comment("Check it with: python -m instruments check DIRECTORY (beside themes.yaml).")]
    if any(not i["theme"] for i in draft.items) and not theme:
        notes.append(_comment(f"Items without a theme have '{CHOOSE_THEME}': pick one from "
                              "themes.yaml."))
    if draft.skipped:
        notes.append(_comment("Other fields not converted: " + ", ".join(draft.skipped)))
    body = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100)
    return "\n".join(notes) + "\n" + body
