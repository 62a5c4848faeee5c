"""Free-text answers, for researchers only: never a dashboard or a monitor's view.

Read here for the research page (and, as columns, by `exports.build_export`, and in the API's
FHIR response when a researcher asks, `script_data.fhir_response`); each reading is audited.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from instruments import load_instrument
from survey.models import Answer, Participant, Response, Study, User, Wave
from survey.services.audit import record_event
from survey.services.datasets import submitted_responses


@dataclass(frozen=True)
class Question:
    """One free-text question of one instrument version, with what was written, in order."""

    instrument: str
    question: str
    answers: list[tuple[str, str, int, str]]  # (participant, role group, wave, text)


def read(db: Session, study: Study, user: User | None) -> list[Question]:
    """Every submitted free-text answer of the study, grouped by question; the read is audited."""
    rows = db.execute(
        submitted_responses(study)
        .add_columns(Response.instrument_id, Response.instrument_version, Answer.item_id,
                     Answer.value_text)
        .join(Answer, Answer.response_id == Response.id)
        .where(Answer.value_text.is_not(None))
        .order_by(Response.instrument_id, Response.instrument_version, Answer.item_id,
                  Wave.index, Participant.code)
    ).all()
    questions: dict[tuple[str, int, str], Question] = {}
    for code, _team, _trust, role, wave, _anchor, _at, _rid, instrument_id, version, item_id, text \
            in rows:
        key = (instrument_id, version, item_id)
        if key not in questions:
            instrument = load_instrument(instrument_id, version)
            questions[key] = Question(instrument.key, instrument.item(item_id).text, [])
        questions[key].answers.append((code, role.audience, wave, text))
    record_event(db, user, "free_text.view", "study", study.code, {"answers": len(rows)})
    return list(questions.values())
