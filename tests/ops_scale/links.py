"""Many open personal links in one study, made directly in an app's database."""

from __future__ import annotations

from flask import Flask

from survey.db import get_sessionmaker
from survey.services.tokens import issue_token
from tests import factories as f


def open_links(app: Flask, count: int) -> list[str]:
    """Issue `count` open links of consented peer workers in one study; return the raw tokens."""
    session = get_sessionmaker(app)()
    f.bind(session)
    try:
        study = f.StudyFactory()
        wave = f.WaveFactory(study=study, index=1)
        team = f.TeamFactory()
        tokens = []
        for _ in range(count):
            participant = f.ParticipantFactory(study=study, team=team, consented=True)
            invitation = f.OpenInvitationFactory(participant=participant, wave=wave)
            tokens.append(issue_token(session, invitation))
        session.commit()
        return tokens
    finally:
        f.bind(None)
        session.close()
