"""Research data read by scripts through the API: the long table and one FHIR response, audited.

The same data as the research export (`exports.build_export`): the long table of
`datasets.long_scores` (scale scores only, so never free text) and a QuestionnaireResponse of
`fhir_export.responses` (free-text answers only when asked for). Each read is audited, as the
export is.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from survey.models import Study, User
from survey.services import datasets, fhir_export
from survey.services.audit import record_event

if TYPE_CHECKING:
    import pandas as pd

#: A response's id in the API: the participant's code and the wave, as in the FHIR identifier.
RESPONSE_ID = re.compile(r"(?P<participant>[^/]{1,40})-wave-(?P<wave>[0-9]{1,6})")


def long_data(db: Session, study: Study, user: User | None) -> pd.DataFrame:
    """The study's long table (one row per participant × wave × scale); the read is audited."""
    frame = datasets.long_scores(db, study)
    record_event(db, user, "api.long_data", "study", study.code,
                 {"rows": len(frame), "participants": int(frame["participant"].nunique())})
    return frame


def fhir_response(db: Session, study: Study, response_id: str, user: User | None,
                  free_text: bool = False) -> dict[str, Any] | None:
    """One submitted response as a FHIR R4 QuestionnaireResponse (JSON), or None; audited when found.

    `response_id` is `<participant code>-wave-<wave index>`; free-text answers are left out
    (never read) unless `free_text`.
    """
    match = RESPONSE_ID.fullmatch(response_id)
    if match is None:
        return None
    participant, wave = match["participant"], int(match["wave"])
    instrument = fhir_export.response_version(db, study, participant, wave)
    if instrument is None:
        return None
    found = fhir_export.responses(db, study, instrument, free_text, only=(participant, wave))
    record_event(db, user, "api.fhir_response", "study", study.code,
                 {"response": response_id, "free_text": free_text})
    resource: dict[str, Any] = json.loads(found[0].model_dump_json(exclude_none=True))
    return resource
