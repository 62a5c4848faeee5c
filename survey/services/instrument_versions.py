"""Frozen instrument versions: a version that has responses may never change its content."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from instruments import Instrument, InstrumentError, load_instrument
from survey.models import Response, Study, StudyInstrument

CONSENT_DIR = Path(__file__).resolve().parents[1] / "templates" / "respondent" / "consent"


class InstrumentVersionChanged(RuntimeError):
    """An instrument file was edited after responses used its version."""


def _changed_message(instrument_id: str, version: int, count: int, stored: str, current: str) -> str:
    return (
        f"instrument '{instrument_id}' version {version} has {count} response(s) recorded with "
        f"content hash {stored[:12]}…, but its file now has hash {current[:12]}…. A version "
        f"that has responses is frozen: undo the edit, and put the change in a new file with "
        f"`version: {version + 1}`."
    )


def ensure_unchanged(db: Session, instrument: Instrument) -> None:
    """Refuse to record answers against a version whose content differs from earlier responses."""
    stored = db.execute(
        select(Response.instrument_hash, func.count())
        .where(Response.instrument_id == instrument.id,
               Response.instrument_version == instrument.version,
               Response.instrument_hash != instrument.content_hash)
        .group_by(Response.instrument_hash)
    ).first()
    if stored is not None:
        raise InstrumentVersionChanged(_changed_message(
            instrument.id, instrument.version, stored[1], stored[0], instrument.content_hash))


def problems(db: Session) -> list[str]:
    """Every way the database and the instrument files disagree, as sentences."""
    found: list[str] = []
    rows = db.execute(
        select(Response.instrument_id, Response.instrument_version, Response.instrument_hash,
               func.count())
        .group_by(Response.instrument_id, Response.instrument_version, Response.instrument_hash)
        .order_by(Response.instrument_id, Response.instrument_version)
    ).all()
    for instrument_id, version, stored_hash, count in rows:
        try:
            instrument = load_instrument(instrument_id, version)
        except InstrumentError as exc:
            found.append(f"instrument '{instrument_id}' version {version} has {count} response(s) "
                         f"but cannot be loaded: {exc}")
            continue
        if instrument.content_hash != stored_hash:
            found.append(_changed_message(instrument_id, version, count, stored_hash,
                                          instrument.content_hash))
    for assignment in db.scalars(select(StudyInstrument)):
        try:
            load_instrument(assignment.instrument_id, assignment.instrument_version)
        except InstrumentError as exc:
            found.append(f"study '{assignment.study.code}' gives {assignment.role.value}s "
                         f"instrument '{assignment.instrument_id}' version "
                         f"{assignment.instrument_version}, which cannot be loaded: {exc}")
    for study in db.scalars(select(Study)):
        if not (CONSENT_DIR / f"v{study.consent_version}.html").is_file():
            found.append(f"study '{study.code}' asks for consent version {study.consent_version}, "
                         f"but there is no text for it: add "
                         f"survey/templates/respondent/consent/v{study.consent_version}.html")
    return found
