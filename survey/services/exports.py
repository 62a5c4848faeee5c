"""The researcher's export: pseudonymous data for SPSS, Stata, R, REDCap and FHIR, a codebook, a read-me.

"Does not apply" (an answer stored with no value) is kept apart from "not answered" (no
answer stored) in every format: the code -9 in the CSV files, -9 declared user-missing in
the .sav files, the extended missing value .a in the .dta files, and the data-absent-reason
code ``not-applicable`` in the FHIR responses. Not answered is empty / system-missing.
"""

from __future__ import annotations

import io
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Row, select
from sqlalchemy.orm import Session

import analysis
from instruments import load_instrument, load_themes, safe_csv
from instruments.codebook import write_codebook
from instruments.model import CHOICE, NUMBER, TEXT, Instrument, Item
from instruments.redcap import NOT_APPLICABLE_CODE, dictionary_csv, form_name
from survey.models import Answer, Invitation, Participant, Response, Study, User, Wave
from survey.services import datasets, fhir_export
from survey.services.audit import record_event

if TYPE_CHECKING:
    import pandas as pd

#: The code of "does not apply" in the CSV and .sav files (declared user-missing in .sav).
DOES_NOT_APPLY = NOT_APPLICABLE_CODE
#: The Stata extended missing value of "does not apply".
DOES_NOT_APPLY_STATA = "a"
DOES_NOT_APPLY_LABEL = "Does not apply"
#: The code of "not asked" (a condition hid the question) in the CSV and .sav files, and
#: its Stata extended missing value: a third kind of missing, apart from the other two.
NOT_ASKED = -8
NOT_ASKED_STATA = "b"
NOT_ASKED_LABEL = "Not asked"
#: Stata's longest variable label; the codebook keeps the full wording.
STATA_LABEL_LENGTH = 80
#: The columns of an item table before the items.
ID_COLUMNS = ("participant", "team", "trust", "role", "role_group", "wave", "language")
#: The columns that identify a row of the wide table.
WIDE_INDEX = ("participant", "team", "trust", "role", "role_group")

README = """PeerPulse export of study "{name}" ({code})

long.csv      one row per participant x wave x scale: participant (random study code, not
              linkable to a person outside PeerPulse), team, trust, role, role_group
              (managers answer the colleague survey), wave, months (time from the
              participant's anchor date to their answer), scale, score (mean of items after
              reverse keying; empty when too few items were answered), items_answered,
              items_not_asked (the scale's items a condition hid from the response),
              language (the language the questionnaire was answered in: en English, cy Welsh;
              the language of its last page, where a person switched part way).
wide.csv      the same scores, one row per participant, a column per scale and wave (identity_w1 ...)
              and the language of each wave's answers (language_w1 ...).
items_*.csv   item answers of each instrument version, one row per response. Reverse-keyed
              items are as answered (not reversed); `language` as in long.csv, so the two
              language versions can be compared. Two kinds of missing answer:
                -9     = "Does not apply" (the respondent chose it)
                -8     = not asked (the question's condition was not met; also "-8" in a
                         free-text column)
                empty  = not answered
              Items of a randomised page have a column ITEM_pos: where the item came on
              its page in that response (1 = first), drawn when the response started.
              Treat -9 and -8 as missing in analyses (R: read.csv(f, na.strings =
              c("", "-9", "-8")); pandas: read_csv(f, na_values=["-9", "-8"])).
codebook.csv  every item: wording, scale, theme, reverse key, response options (also codebook.md).
*.sav         each table as an SPSS file with variable labels (item wording) and value labels
              (response options); -9 "Does not apply" and -8 "Not asked" are declared
              user-missing values, not answered is system-missing.
*.dta         each table as a Stata 15 file with variable labels (item wording, cut to Stata's
              80 characters; the codebook has it whole) and value labels; "Does not apply" is
              the extended missing value .a, "Not asked" .b (both labelled), not answered is
              system-missing (.).
redcap_*.csv  a REDCap data dictionary (REDCap's 18 standard columns) per instrument version:
              one radio field per item, choice -9 = "Does not apply"; PeerPulse's scale,
              theme and reverse key are in the Field Annotation (@PEERPULSE ...).
fhir/Questionnaire.ndjson          FHIR R4 Questionnaire of each instrument version.
fhir/QuestionnaireResponse.ndjson  FHIR R4 QuestionnaireResponse of each submitted response
              (NDJSON, one resource a line); the subject is the participant's study code
              only; "Does not apply" is data-absent-reason "not-applicable", an unanswered
              item has no answer.

No names, email addresses or trust staff ids are included. Small groups are not suppressed
in this file: it is for the research team only. Do not share it beyond the study's approvals.
"""

FREE_TEXT_NOTE = """
Background and free-text questions (versions with them): in items_*.csv as asked, never
scored. Single-choice answers are codes labelled in the codebook and the .sav/.dta value
labels; numbers are numbers; free text is a text column (empty = not answered). Free text
may identify people despite the notice not to name anyone: read it before sharing anything.
"""

NO_FREE_TEXT_NOTE = """
Free-text answers were left out of this export (every file) at the researcher's request.
Background questions (single choice, numbers) are in items_*.csv as asked, never scored.
"""


MISSING_VALUES = """
## Missing values in this export

| meaning | CSV | SPSS .sav | Stata .dta | FHIR |
|---|---|---|---|---|
| does not apply (the respondent chose it) | -9 | -9, declared user-missing, labelled \
| .a, labelled | data-absent-reason `not-applicable` |
| not asked (its condition was not met) | -8 | -8, declared user-missing, labelled \
| .b, labelled | no answer; the Questionnaire item has `enableWhen` |
| not answered | empty | system-missing | . | no answer |

A question's condition is in the codebook (columns show_if, in REDCap's syntax, and
show_if_words) and in the REDCap dictionary's Branching Logic column.
"""


LONG_LABELS: dict[str, str | None] = {
    "participant": "Pseudonymous participant code",
    "team": "Team code",
    "trust": "Trust code",
    "role": "Role in the team",
    "role_group": "Peer worker or colleague (managers answer the colleague survey)",
    "wave": "Wave number",
    "months": "Months from the participant's anchor date to the answer",
    "scale": "Scale",
    "score": "Scale score (mean of items after reverse keying, 1-5)",
    "items_answered": "Items of the scale answered",
    "items_not_asked": "Items of the scale not asked (their condition was not met)",
    "language": "Language answered in (en English, cy Welsh)",
}


@dataclass
class Table:
    """One exported table: data (does-not-apply as -9), labels and the columns that may hold -9."""

    frame: pd.DataFrame
    labels: dict[str, str | None] = field(default_factory=dict)
    value_labels: dict[str, dict[int | float, str]] = field(default_factory=dict)
    coded: list[str] = field(default_factory=list)
    whole: list[str] = field(default_factory=list)  # number items answered in whole numbers
    not_asked: list[str] = field(default_factory=list)  # columns that may hold -8 (conditional)


def item_table(db: Session, study: Study, instrument: Instrument, free_text: bool = True) -> Table:
    """Item answers of one instrument version, "does not apply" as -9 and unanswered empty.

    Likert and choice items carry value labels; number items are numbers; free-text items
    are text columns (empty when not answered), or left out when `free_text` is False.
    """
    frame = datasets.item_answers(db, study, instrument.id, instrument.version,
                                  free_text=free_text)
    kept = [i for i in instrument.items if free_text or i.type != TEXT]
    for item in kept:  # every item has its column, even one nobody answered
        if item.id not in frame.columns:
            frame[item.id] = "" if item.type == TEXT else float("nan")
        elif item.type == TEXT:
            frame[item.id] = frame[item.id].astype(object).where(frame[item.id].notna(), "")
    frame = frame[[*ID_COLUMNS, *(i.id for i in kept)]]
    likert = [i.id for i in kept if i.is_likert]
    not_applicable = db.execute(
        select(Participant.code, Wave.index, Answer.item_id)
        .join(Response, Answer.response_id == Response.id)
        .join(Invitation, Response.invitation_id == Invitation.id)
        .join(Wave, Invitation.wave_id == Wave.id)
        .join(Participant, Invitation.participant_id == Participant.id)
        .where(Wave.study_id == study.id, Response.is_submitted,
               Response.instrument_id == instrument.id,
               Response.instrument_version == instrument.version, Answer.value.is_(None),
               Answer.value_number.is_(None), Answer.value_text.is_(None),
               Answer.item_id.in_(likert))
    ).all() if likert else []
    if not_applicable:
        # One response per participant and wave (the invitation is unique on both).
        row_of = {(p, w): i for i, (p, w) in enumerate(zip(frame["participant"], frame["wave"],
                                                           strict=True))}
        for code, wave, item_id in not_applicable:
            if item_id in frame.columns and (code, wave) in row_of:
                frame.loc[row_of[(code, wave)], item_id] = DOES_NOT_APPLY
    conditional = [i for i in kept if i.show_if is not None]
    if conditional:
        _mark_not_asked(db, study, instrument, frame, conditional)
    shuffled = {i.id: p.id for p in instrument.pages(first_wave=True) if p.randomise
                for i in p.items if i in kept}
    if shuffled:
        _add_positions(db, study, instrument, frame, shuffled)
    codes: dict[int | float, str] = {o.value: o.label for o in instrument.response_options}
    if instrument.not_applicable_label:
        codes[DOES_NOT_APPLY] = DOES_NOT_APPLY_LABEL
    value_labels: dict[str, dict[int | float, str]] = dict.fromkeys(likert, codes)
    for item in kept:
        if item.type == CHOICE:
            value_labels[item.id] = {o.value: o.label for o in item.options}
    for item in conditional:
        if item.id in value_labels:
            value_labels[item.id] = {**value_labels[item.id], NOT_ASKED: NOT_ASKED_LABEL}
    whole = [i.id for i in kept if i.type == NUMBER and i.number is not None and i.number.integer]
    labels: dict[str, str | None] = {"language": LONG_LABELS["language"]}
    labels.update({f"{item_id}_pos": f"Position of {item_id} on its randomised page {page}"
                   for item_id, page in shuffled.items()})
    whole += [f"{item_id}_pos" for item_id in shuffled]
    return Table(frame, {**labels, **{i.id: i.text for i in kept}}, value_labels,
                 likert if instrument.not_applicable_label else [], whole,
                 [i.id for i in conditional])


def _per_response(db: Session, study: Study, instrument: Instrument,
                  column: Any) -> Sequence[Row[str, int, Any]]:
    """(participant code, wave index, column) of each submitted response to this version."""
    return db.execute(
        select(Participant.code, Wave.index, column)
        .join(Invitation, Response.invitation_id == Invitation.id)
        .join(Wave, Invitation.wave_id == Wave.id)
        .join(Participant, Invitation.participant_id == Participant.id)
        .where(Wave.study_id == study.id, Response.is_submitted,
               Response.instrument_id == instrument.id,
               Response.instrument_version == instrument.version)
    ).all()


def _add_positions(db: Session, study: Study, instrument: Instrument, frame: pd.DataFrame,
                   shuffled: dict[str, str]) -> None:
    """A column `ITEM_pos` per item of a randomised page: where it came on its page (1 = first)
    in each response, as drawn when the response started (empty: not drawn)."""
    rows = _per_response(db, study, instrument, Response.item_order)
    order = {(code, wave): item_order or {} for code, wave, item_order in rows}
    for item_id, page in shuffled.items():
        frame[f"{item_id}_pos"] = [
            (order.get((p, w), {}).get(page, []).index(item_id) + 1)
            if item_id in order.get((p, w), {}).get(page, []) else float("nan")
            for p, w in zip(frame["participant"], frame["wave"], strict=True)]


def _mark_not_asked(db: Session, study: Study, instrument: Instrument, frame: pd.DataFrame,
                    conditional: list[Item]) -> None:
    """Put -8 (not asked) in the cells of the questions each response's conditions hid."""
    rows = _per_response(db, study, instrument, Response.items_not_asked)
    row_of = {(p, w): i for i, (p, w) in enumerate(zip(frame["participant"], frame["wave"],
                                                       strict=True))}
    types = {item.id: item.type for item in conditional}
    for code, wave, hidden in rows:
        index = row_of.get((code, wave))
        if index is None:
            continue
        for item_id in hidden or []:
            if item_id in types:
                frame.loc[index, item_id] = str(NOT_ASKED) if types[item_id] == TEXT else NOT_ASKED


def csv_text(table: Table) -> str:
    """The table as CSV; coded answers as whole numbers (4, -9), so "-9" matches as text in R too."""
    whole = {c: "Int64" for c in [*table.value_labels, *table.whole] if c in table.frame.columns}
    return safe_csv.frame_text(table.frame.astype(whole))


def write_sav(table: Table, path: Path) -> None:
    """Write an SPSS file: -9 and -8 declared user-missing in the item columns."""
    import pyreadstat  # here, not at the top: importing the app stays free of it
    from pandas.api.types import is_numeric_dtype

    missing: dict[str, list[Any]] = {c: [DOES_NOT_APPLY] for c in table.coded}
    for column in table.not_asked:
        text = not is_numeric_dtype(table.frame[column])
        missing.setdefault(column, []).append(str(NOT_ASKED) if text else NOT_ASKED)
    pyreadstat.write_sav(table.frame, path, column_labels=table.labels,
                         variable_value_labels=table.value_labels, missing_ranges=missing)


def write_dta(table: Table, path: Path) -> None:
    """Write a Stata file: -9 becomes the extended missing value .a, labelled."""
    import pyreadstat
    from pandas.api.types import is_numeric_dtype

    frame = table.frame.copy()
    value_labels = {c: dict(v) for c, v in table.value_labels.items()}
    missing: dict[str, list[str]] = {}
    for column, code, letter, label in (
            [(c, DOES_NOT_APPLY, DOES_NOT_APPLY_STATA, DOES_NOT_APPLY_LABEL) for c in table.coded]
            + [(c, NOT_ASKED, NOT_ASKED_STATA, NOT_ASKED_LABEL) for c in table.not_asked
               if is_numeric_dtype(frame[c])]):
        is_code = frame[column] == code
        if column in value_labels:
            value_labels[column].pop(code, None)
        if is_code.any():
            frame[column] = frame[column].astype(object).where(~is_code, letter)
            missing.setdefault(column, []).append(letter)
            value_labels.setdefault(column, {})[letter] = label  # type: ignore[index]
    labels = {c: (t[:STATA_LABEL_LENGTH - 3] + "..." if t and len(t) > STATA_LABEL_LENGTH else t)
              for c, t in table.labels.items() if c in frame.columns}
    pyreadstat.write_dta(frame, path, column_labels=labels, variable_value_labels=value_labels,
                         missing_user_values=missing)


def wide_table(long: pd.DataFrame) -> pd.DataFrame:
    """One row per participant: a column per scale and wave, and the language of each wave."""
    if long.empty:
        return long
    wide = analysis.long_to_wide(long, index=WIDE_INDEX)
    languages = analysis.long_to_wide(long.drop_duplicates([*WIDE_INDEX, "wave"]), index=WIDE_INDEX,
                                      columns=("wave",), values="language")
    languages.columns = [*WIDE_INDEX, *(f"language_{c}" for c in languages.columns[len(WIDE_INDEX):])]
    return wide.merge(languages, on=list(WIDE_INDEX))


def build_export(db: Session, study: Study, user: User | None, free_text: bool = True) -> bytes:
    """The study's export as a zip archive; the export itself is audited.

    With `free_text` False, no file of the archive holds a free-text answer (the items'
    wording stays in the codebook, the REDCap dictionary and the FHIR Questionnaire).
    """
    long = datasets.long_scores(db, study)
    buffer = io.BytesIO()
    versions = sorted({(si.instrument_id, si.instrument_version) for si in study.instruments})
    instruments = [load_instrument(i, v) for i, v in versions]
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive, \
            tempfile.TemporaryDirectory() as tmp:
        archive.writestr("README.txt", README.format(name=study.name, code=study.code)
                         + (FREE_TEXT_NOTE if free_text else NO_FREE_TEXT_NOTE))
        wide = wide_table(long)
        tables = {"long": Table(long, dict(LONG_LABELS)), "wide": Table(wide)}
        for instrument in instruments:
            name = f"items_{instrument.id}_v{instrument.version}"
            tables[name] = item_table(db, study, instrument, free_text)
            archive.writestr(f"redcap_{form_name(instrument)}.csv", dictionary_csv(instrument))
        for name, table in tables.items():
            archive.writestr(f"{name}.csv", csv_text(table))
            for suffix, write in ((".sav", write_sav), (".dta", write_dta)):
                path = Path(tmp) / f"{name}{suffix}"
                write(table, path)
                archive.write(path, path.name)
        for path in write_codebook(instruments, load_themes(), Path(tmp)):
            if path.suffix == ".md":
                with path.open("a", encoding="utf-8") as codebook:
                    codebook.write(MISSING_VALUES)
            archive.write(path, path.name)
        archive.writestr("fhir/Questionnaire.ndjson",
                         fhir_export.ndjson([fhir_export.questionnaire(i) for i in instruments]))
        archive.writestr("fhir/QuestionnaireResponse.ndjson", fhir_export.ndjson(
            [r for i in instruments for r in fhir_export.responses(db, study, i, free_text)]))
    record_event(db, user, "export", "study", study.code,
                 {"rows": len(long), "participants": int(long["participant"].nunique()),
                  "free_text": free_text})
    return buffer.getvalue()
