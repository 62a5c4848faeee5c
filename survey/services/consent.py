"""Consent: asked once per participant, again only when the study's consent text changes."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from survey.db import utcnow
from survey.models import ConsentDecision, Participant
from survey.services.audit import record_event
from survey.services.withdrawal import stop_contact


def consent_is_current(
    decision: ConsentDecision | None, given_version: str | None, study_version: str
) -> bool:
    """Whether a decision counts as consent to the study's current consent version."""
    return decision == ConsentDecision.GIVEN and given_version == study_version


def needs_consent(participant: Participant) -> bool:
    """True until the participant has consented to the study's current consent version."""
    return not consent_is_current(
        participant.consent_decision, participant.consent_version, participant.study.consent_version
    )


def record_consent(
    db: Session, participant: Participant, given: bool, version: str, now: dt.datetime | None = None
) -> None:
    """Record the decision with time and version; declining stops all further contact."""
    participant.consent_decision = ConsentDecision.GIVEN if given else ConsentDecision.DECLINED
    participant.consent_at = now or utcnow()
    participant.consent_version = version
    detail: dict[str, object] = {"decision": participant.consent_decision.value, "version": version}
    if not given:
        stopped = stop_contact(db, participant)
        detail["invitations_cancelled"] = stopped.invitations_cancelled
        detail["messages_cancelled"] = stopped.messages_cancelled
    record_event(db, None, "participant_consent", "participant", participant.id, detail,
                 actor="participant")
    db.flush()
