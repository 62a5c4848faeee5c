"""Fixtures for the respondent pages: personal links, a live server and a headless Chromium."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from survey import models as m
from survey.db import get_sessionmaker
from survey.services.tokens import issue_token
from tests import factories as f


@dataclass
class PersonalLink:
    """An invitation with its raw token, as the email would carry it."""

    invitation: m.Invitation
    token: str

    @property
    def url(self) -> str:
        """The path of the personal link."""
        return f"/r/{self.token}"


def make_link(db: Session, invitation: m.Invitation | None = None, **kwargs: Any) -> PersonalLink:
    """Issue a token for an invitation (an open, consented, first-wave one by default); commit."""
    invitation = invitation or f.OpenInvitationFactory(**kwargs)
    token = issue_token(db, invitation)
    db.commit()
    return PersonalLink(invitation, token)


def link_in(app: Flask, **kwargs: Any) -> PersonalLink:
    """An open personal link made in the database of an app built with make_app(...)."""
    session = get_sessionmaker(app)()
    f.bind(session)
    try:
        return make_link(session, **kwargs)
    finally:
        f.bind(None)
        session.close()


def v2_link(db: Session, index: int = 1, consented: bool = True) -> PersonalLink:
    """An open link of a peer worker in a study that uses peer_worker v2 (background and free text)."""
    study = f.StudyFactory(instruments=False)
    db.add(m.StudyInstrument(study=study, role=m.Role.PEER_WORKER, instrument_id="peer_worker",
                             instrument_version=2))
    person = f.ParticipantFactory(consented=consented, study=study)
    return make_link(db, participant=person, wave=f.WaveFactory(study=study, index=index))


@pytest.fixture
def link(db: Session) -> PersonalLink:
    """An open personal link of a consented peer worker at the first wave."""
    return make_link(db)


def csrf_token(client: FlaskClient, path: str) -> str:
    """The CSRF token of the form on a page."""
    html = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


FORM = "application/x-www-form-urlencoded"


def post_form(client: FlaskClient, path: str, data: dict[str, str] | None = None) -> Any:
    """Post a form as a browser does (urlencoded, even when no field is filled in)."""
    return client.post(path, data=data or {}, content_type=FORM)


def see_committed(db: Session) -> None:
    """End the test session's read snapshot and reload, to see what the requests committed."""
    db.rollback()
    db.expire_all()


def stored_answers(db: Session, invitation: m.Invitation) -> dict[str, int | None]:
    """The answers stored for an invitation, read fresh from the database."""
    from sqlalchemy import select

    see_committed(db)
    rows = db.execute(
        select(m.Answer.item_id, m.Answer.value)
        .join(m.Response)
        .where(m.Response.invitation_id == invitation.id)
    ).all()
    return dict(rows)  # type: ignore[arg-type]
