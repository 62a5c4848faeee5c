"""FHIR R4 resources for the export: Questionnaire per instrument version, QuestionnaireResponse per response.

Built and validated with fhir.resources (R4 lives in its ``R4B`` package, whose Questionnaire
and QuestionnaireResponse are R4's). The subject is the participant's pseudonymous study
code as an identifier, never a reference to a person; no contact details are read.
"Does not apply" is answered with the data-absent-reason code ``not-applicable``; an
unanswered item has no answer, and neither has an item its condition hid ("not asked"):
its Questionnaire item carries the condition as ``enableWhen`` (and ``enableBehavior``).
FHIR's enableWhen is a flat list, so a condition on the role or one mixing "and" with "or"
is given as an extension in words instead (the codebook has every condition).
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from instruments import load_instrument
from instruments.conditions import ALL, ANY, EQUALS, IN, NOT_EQUALS, RANGE, Condition
from instruments.model import CHOICE, NUMBER, Instrument, Item
from survey.models import Answer, Invitation, Participant, Response, Study, Wave

if TYPE_CHECKING:
    from fhir.resources.R4B.questionnaire import Questionnaire
    from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

BASE = "urn:peerpulse"
PARTICIPANT_SYSTEM = f"{BASE}:participant"
DATA_ABSENT = "http://terminology.hl7.org/CodeSystem/data-absent-reason"
NOT_APPLICABLE = {"system": DATA_ABSENT, "code": "not-applicable", "display": "Not Applicable"}


def questionnaire_url(instrument: Instrument) -> str:
    """The canonical URL of an instrument (its version goes after a bar when referenced)."""
    return f"{BASE}:questionnaire:{instrument.id}"


def _fhir_id(*parts: object) -> str:
    """A FHIR id ([A-Za-z0-9-.]{1,64}) from the parts."""
    return "-".join(str(p) for p in parts).replace("_", "-")[:64]


def response_system(instrument: Instrument) -> str:
    """The code system of an instrument version's response options."""
    return f"{BASE}:{instrument.id}:v{instrument.version}:response"


def item_system(instrument: Instrument, item: Item) -> str:
    """The code system of a choice item's own options."""
    return f"{BASE}:{instrument.id}:v{instrument.version}:{item.id}"


#: Where a condition enableWhen cannot hold is written in words.
CONDITION_EXTENSION = f"{BASE}:show-if"


def _enable_answer(instrument: Instrument, target: Item, value: float) -> dict[str, object]:
    if target.type == NUMBER:
        assert target.number is not None
        return {"answerInteger": int(value)} if target.number.integer else {"answerDecimal": value}
    system = item_system(instrument, target) if target.type == CHOICE else response_system(instrument)
    return {"answerCoding": {"system": system, "code": f"{value:g}"}}


def _tests(instrument: Instrument, leaf: Condition) -> list[dict[str, object]] | None:
    """A leaf condition as enableWhen tests (None if FHIR cannot hold it)."""
    if leaf.item is None:
        return None
    target = instrument.item(leaf.item)
    if leaf.op == RANGE:
        assert leaf.item is not None
        tests = []
        if leaf.minimum is not None:
            tests.append({"question": leaf.item, "operator": ">" if leaf.min_exclusive else ">=",
                          **_enable_answer(instrument, target, leaf.minimum)})
        if leaf.maximum is not None:
            tests.append({"question": leaf.item, "operator": "<" if leaf.max_exclusive else "<=",
                          **_enable_answer(instrument, target, leaf.maximum)})
        return tests
    operator = "!=" if leaf.op == NOT_EQUALS else "="
    return [{"question": leaf.item, "operator": operator,
             **_enable_answer(instrument, target, value)} for value in leaf.values]


def enable_when(instrument: Instrument, item: Item) -> dict[str, object]:
    """An item's condition as enableWhen with enableBehavior, or in words (an extension)."""
    condition = item.show_if
    if condition is None:
        return {}
    parts = condition.parts if condition.op in (ALL, ANY) else (condition,)
    behavior = "any" if condition.op == ANY or condition.op == IN else "all"
    tests: list[dict[str, object]] = []
    for part in parts:
        found = _tests(instrument, part)
        several = (part.op == IN and len(part.values) > 1) or (
            part.op == RANGE and part.minimum is not None and part.maximum is not None) or (
            part.op == NOT_EQUALS and len(part.values) > 1)
        mixed = several and len(parts) > 1 and (
            (part.op == IN and behavior == "all") or (part.op != IN and behavior == "any"))
        if found is None or mixed or (part.op in (ALL, ANY)):
            return {"extension": [{"url": CONDITION_EXTENSION, "valueString": condition.redcap()}]}
        if len(parts) == 1 and part.op in (EQUALS, NOT_EQUALS, RANGE):
            behavior = "all"
        tests += found
    return {"enableWhen": tests, **({"enableBehavior": behavior} if len(tests) > 1 else {})}


def _other_question(instrument: Instrument, item: Item) -> dict[str, object]:
    """A choice, number or free-text question: choice with its options, integer/decimal, text."""
    question: dict[str, object] = {"linkId": item.id, "text": item.text,
                                   **enable_when(instrument, item)}
    if item.type == CHOICE:
        question.update(type="choice", answerOption=[
            {"valueCoding": {"system": item_system(instrument, item), "code": str(o.value),
                             "display": o.label}} for o in item.options])
    elif item.type == NUMBER:
        assert item.number is not None
        question["type"] = "integer" if item.number.integer else "decimal"
    else:
        question.update(type="text", maxLength=item.max_length)
    return question


def _other_answer(instrument: Instrument, item: Item, value: object) -> dict[str, object]:
    """The answer[x] of a choice, number or free-text question."""
    if item.type == CHOICE:
        assert isinstance(value, int)
        return {"valueCoding": {"system": item_system(instrument, item), "code": str(value),
                                "display": item.option_label(value) or str(value)}}
    if item.type == NUMBER:
        assert isinstance(value, float)
        assert item.number is not None
        return {"valueInteger": int(value)} if item.number.integer else {"valueDecimal": value}
    return {"valueString": value}


def questionnaire(instrument: Instrument) -> Questionnaire:
    """The instrument version as a validated Questionnaire.

    One group per scale of choice items on the response scale, then one group per extra
    page: choice items with their own options, integer or decimal numbers, free text.
    """
    # Imported here, not at the top: fhir.resources takes a quarter second to import.
    from fhir.resources.R4B.questionnaire import Questionnaire

    options = [{"valueCoding": {"system": response_system(instrument), "code": str(o.value),
                                "display": o.label}} for o in instrument.response_options]
    if instrument.not_applicable_label:
        options.append({"valueCoding": {**NOT_APPLICABLE, "display": instrument.not_applicable_label}})
    groups = []
    for scale in instrument.scales.values():
        groups.append({
            "linkId": scale.id, "text": scale.label, "type": "group",
            "item": [{"linkId": item.id, "text": item.text, "type": "choice",
                      "answerOption": options, **enable_when(instrument, item)}
                     for item in instrument.items if item.scale == scale.id],
        })
    for page in instrument.extra_pages:
        groups.append({"linkId": page.id, "text": page.title, "type": "group",
                       "item": [_other_question(instrument, item) for item in instrument.items
                                if item.page == page.id]})
    return Questionnaire.model_validate({
        "resourceType": "Questionnaire",
        "id": _fhir_id(instrument.id, "v", instrument.version),
        "url": questionnaire_url(instrument),
        "version": str(instrument.version),
        "name": "".join(part.capitalize() for part in instrument.id.split("_")),
        "title": instrument.title,
        "status": "active",
        "subjectType": ["Practitioner"],
        "description": instrument.intro,
        "item": [g for g in groups if g["item"]],
    })


def responses(db: Session, study: Study, instrument: Instrument, free_text: bool = True,
              only: tuple[str, int] | None = None) -> list[QuestionnaireResponse]:
    """Every submitted response of one instrument version in the study, validated.

    Free-text answers are left out when `free_text` is False (they are never read then).
    `only` (participant code, wave index) keeps that one response.
    """
    from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

    chosen = (
        select(Response.id, Participant.code, Wave.index, Response.submitted_at)
        .join(Invitation, Response.invitation_id == Invitation.id)
        .join(Wave, Invitation.wave_id == Wave.id)
        .join(Participant, Invitation.participant_id == Participant.id)
        .where(Wave.study_id == study.id, Response.is_submitted,
               Response.instrument_id == instrument.id,
               Response.instrument_version == instrument.version)
    )
    if only is not None:
        chosen = chosen.where(Participant.code == only[0], Wave.index == only[1])
    rows = db.execute(chosen.order_by(Participant.code, Wave.index)).all()
    answers: dict[int, dict[str, int | float | str | None]] = defaultdict(dict)
    if rows:
        query = (select(Answer.response_id, Answer.item_id, Answer.value, Answer.value_number,
                        Answer.value_text)
                 .where(Answer.response_id.in_([r[0] for r in rows])))
        if not free_text:
            query = query.where(Answer.value_text.is_(None))
        for rid, item_id, value, number, text in db.execute(query):
            answers[rid][item_id] = text if text is not None else (
                number if number is not None else value)
    labels = {o.value: o.label for o in instrument.response_options}
    out = []
    for rid, code, wave, submitted in rows:
        given = answers[rid]
        groups = []
        for scale in instrument.scales.values():
            items = []
            for item in instrument.items:
                if item.scale != scale.id or item.id not in given:
                    continue
                rated = given[item.id]
                assert rated is None or isinstance(rated, int)  # a Likert answer
                coding = (dict(NOT_APPLICABLE) if rated is None else
                          {"system": response_system(instrument), "code": str(rated),
                           "display": labels.get(rated, str(rated))})
                items.append({"linkId": item.id, "answer": [{"valueCoding": coding}]})
            if items:
                groups.append({"linkId": scale.id, "item": items})
        for page in instrument.extra_pages:
            answered = [{"linkId": item.id, "answer": [_other_answer(instrument, item, given[item.id])]}
                        for item in instrument.items if item.page == page.id and item.id in given]
            if answered:
                groups.append({"linkId": page.id, "item": answered})
        assert submitted is not None  # the query keeps submitted responses only
        authored = submitted if submitted.tzinfo else submitted.replace(tzinfo=dt.UTC)
        out.append(QuestionnaireResponse.model_validate({
            "resourceType": "QuestionnaireResponse",
            "id": _fhir_id(code, "w", wave, instrument.id),
            "questionnaire": f"{questionnaire_url(instrument)}|{instrument.version}",
            "status": "completed",
            "identifier": {"system": f"{BASE}:response", "value": f"{code}-wave-{wave}"},
            "subject": {"identifier": {"system": PARTICIPANT_SYSTEM, "value": code}},
            "authored": authored.isoformat(),
            "item": groups,
        }))
    return out


def response_version(db: Session, study: Study, participant: str, wave: int) -> Instrument | None:
    """The instrument version of a participant's submitted response to a wave, if there is one."""
    found = db.execute(
        select(Response.instrument_id, Response.instrument_version)
        .join(Invitation, Response.invitation_id == Invitation.id)
        .join(Wave, Invitation.wave_id == Wave.id)
        .join(Participant, Invitation.participant_id == Participant.id)
        .where(Wave.study_id == study.id, Wave.index == wave, Participant.code == participant,
               Response.is_submitted)
    ).first()
    return None if found is None else load_instrument(found[0], found[1])


def ndjson(resources: list[Questionnaire] | list[QuestionnaireResponse]) -> str:
    """Resources as NDJSON (FHIR bulk data: one resource a line)."""
    return "".join(json.dumps(json.loads(r.model_dump_json(exclude_none=True)),
                              separators=(",", ":")) + "\n" for r in resources)
