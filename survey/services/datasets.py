"""Analysis data sets from the database: pseudonymous long and item-level tables.

Only the participant's random code leaves the database; contact details are never read.
Participants who withdrew and asked for their answers to be deleted have no answers left;
those who declined consent never had any.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from instruments import load_instrument
from instruments.scoring import keyed_value
from survey.models import (
    Answer,
    Invitation,
    Organisation,
    Participant,
    Response,
    ScaleScore,
    Study,
    Team,
    Wave,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

    import pandas as pd

    from instruments.model import Instrument, Scale

DAYS_PER_MONTH = 365.25 / 12
LONG_COLUMNS = ["participant", "team", "trust", "role", "role_group", "wave", "months", "scale",
                "score", "items_answered", "items_not_asked", "language"]


def submitted_responses(study: Study) -> Select:
    """The shared join: submitted responses of a study with participant, team, trust, wave."""
    return (
        select(Participant.code, Team.code, Organisation.code, Participant.role, Wave.index,
               Participant.anchor_date, Response.submitted_at, Response.id)
        .select_from(Response)
        .join(Invitation, Response.invitation_id == Invitation.id)
        .join(Wave, Invitation.wave_id == Wave.id)
        .join(Participant, Invitation.participant_id == Participant.id)
        .join(Team, Participant.team_id == Team.id)
        .join(Organisation, Team.organisation_id == Organisation.id)
        .where(Wave.study_id == study.id, Response.is_submitted)
    )


def long_scores(db: Session, study: Study, scale: str | None = None) -> pd.DataFrame:
    """One row per participant × wave × scale (the long format of the analysis package)."""
    import pandas as pd  # here, not at the top: importing the app stays free of pandas

    query = submitted_responses(study).add_columns(
        ScaleScore.scale, ScaleScore.score, ScaleScore.items_answered, Response.language,
        Response.instrument_id, Response.instrument_version, Response.items_not_asked)
    query = query.join(ScaleScore, ScaleScore.response_id == Response.id)
    if scale is not None:
        query = query.where(ScaleScore.scale == scale)
    rows = [
        (code, team, trust, role.value, role.audience, wave,
         round((submitted.date() - anchor).days / DAYS_PER_MONTH, 4), scale_id, score, answered,
         _not_asked_in(instrument_id, version, scale_id, hidden), language)
        for code, team, trust, role, wave, anchor, submitted, _rid, scale_id, score, answered,
        language, instrument_id, version, hidden
        in db.execute(query.order_by(Participant.code, Wave.index, ScaleScore.scale))
    ]
    frame = pd.DataFrame(rows, columns=LONG_COLUMNS)
    frame["score"] = frame["score"].astype(float)
    return frame


def _not_asked_in(instrument_id: str, version: int, scale: str, hidden: list[str] | None) -> int:
    """How many of a scale's items a response's conditions hid ("not asked")."""
    if not hidden:
        return 0
    items = load_instrument(instrument_id, version).scales[scale].items
    return len(set(hidden) & set(items))


def scale_answers(db: Session, study: Study, min_items: int = 1
                  ) -> Iterator[tuple[Instrument, Scale, pd.DataFrame, list[str]]]:
    """Each scale of each instrument version of the study that has answers: the version, the
    scale, its keyed item answers (one row per response) and the scale's items among them,
    when there are at least `min_items` (reliability and agreement read scales this way)."""
    versions = sorted({(si.instrument_id, si.instrument_version) for si in study.instruments})
    for instrument_id, version in versions:
        instrument = load_instrument(instrument_id, version)
        answers = item_answers(db, study, instrument_id, version, keyed=True)
        for scale in instrument.scales.values():
            items = [i for i in scale.items if i in answers.columns]
            if not answers.empty and items and len(items) >= min_items:
                yield instrument, scale, answers, items


def item_answers(db: Session, study: Study, instrument_id: str, version: int,
                 keyed: bool = False, free_text: bool = False) -> pd.DataFrame:
    """One row per response of one instrument version, one column per item (NaN = missing).

    Likert and choice answers are whole numbers, number answers floats. Free-text answers
    are left out unless `free_text` (the research export): they are for researchers only.
    With `keyed`, reverse-keyed items are reversed as in scoring (for reliability analyses);
    otherwise values are as answered (the export).
    """
    import pandas as pd

    responses = db.execute(
        submitted_responses(study).add_columns(Response.language)
        .where(Response.instrument_id == instrument_id, Response.instrument_version == version)
        .order_by(Participant.code, Wave.index)
    ).all()
    query = select(Answer.response_id, Answer.item_id, Answer.value, Answer.value_number,
                   Answer.value_text)
    if not free_text:  # never even read
        query = query.where(Answer.value_text.is_(None))
    answers = db.execute(
        query.join(Response, Answer.response_id == Response.id)
        .where(Response.id.in_([r[7] for r in responses]))
    ).all() if responses else []
    numbers = [(rid, item, number if number is not None else value)
               for rid, item, value, number, text in answers if text is None]
    wide = (
        pd.DataFrame(numbers, columns=["response_id", "item_id", "value"])
        .pivot(index="response_id", columns="item_id", values="value")
        .astype(float)
    )
    texts = [(rid, item, text) for rid, item, _v, _n, text in answers if text is not None]
    if texts:
        written = (pd.DataFrame(texts, columns=["response_id", "item_id", "value"])
                   .pivot(index="response_id", columns="item_id", values="value"))
        wide = wide.join(written, how="outer")
    meta = pd.DataFrame(
        [(rid, code, team, trust, role.value, role.audience, wave, language)
         for code, team, trust, role, wave, _anchor, _at, rid, language in responses],
        columns=["response_id", "participant", "team", "trust", "role", "role_group", "wave",
                 "language"],
    ).set_index("response_id")
    frame = meta.join(wide).reset_index(drop=True)
    if keyed:
        instrument = load_instrument(instrument_id, version)
        for item in instrument.items:
            if item.reverse and item.id in frame.columns:
                frame[item.id] = frame[item.id].map(
                    lambda v, i=item.id: v if pd.isna(v) else keyed_value(instrument, i, int(v)))
    return frame
