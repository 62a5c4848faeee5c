"""Languages at enrolment and in email: the CSV's language column, the study's default, Welsh mail."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from survey import models as m
from survey.messaging.base import Links, MessageContext
from survey.messaging.email import MailSettings, render_survey_email
from survey.services import enrolment, outbox
from survey.services.errors import InputError
from survey.services.study_setup import read_study_file
from survey.services.tokens import survey_url, withdraw_url
from tests import factories as f
from tests.scheduling.conftest import OPENS, SmtpServer, Staged, make_study, smtp_config
from tests.scheduling.test_delivery import body_text, queue_invites

HEADER = "external_id,email,name,role,team_code,anchor_date,language\n"
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "study.yaml"


@pytest.fixture
def study(db: Session) -> m.Study:
    s = f.StudyFactory(code="pulse", default_language="cy")
    f.TeamFactory(code="NORTH")
    db.commit()
    return s


def test_the_language_column_sets_each_persons_language_and_empty_takes_the_studys(
    db: Session, study: m.Study
) -> None:
    enrolment.import_csv(db, study, HEADER
                         + "E1,sam@example.nhs.uk,Sam,peer_worker,NORTH,2026-01-05,en\n"
                         + "E2,alex@example.nhs.uk,,colleague,NORTH,2026-01-05,\n"
                         + "E3,jo@example.nhs.uk,Jo,manager,NORTH,2026-01-05,CY\n")
    languages = dict(db.execute(select(m.Contact.external_id, m.Participant.language)
                                .join(m.Participant)).all())
    assert languages == {"E1": "en", "E2": "cy", "E3": "cy"}
    # Re-importing with the column empty keeps each person's language; a new code changes it.
    again = enrolment.import_csv(db, study, HEADER
                                 + "E1,sam@example.nhs.uk,Sam,peer_worker,NORTH,2026-01-05,\n"
                                 + "E2,alex@example.nhs.uk,,colleague,NORTH,2026-01-05,en\n")
    assert (again.updated, again.unchanged) == (1, 1)
    db.expire_all()
    assert dict(db.execute(select(m.Contact.external_id, m.Participant.language)
                           .join(m.Participant)).all())["E2"] == "en"


def test_a_file_without_the_language_column_still_works(db: Session, study: m.Study) -> None:
    enrolment.import_csv(db, study, "external_id,email,name,role,team_code,anchor_date\n"
                                    "E1,sam@example.nhs.uk,Sam,peer_worker,NORTH,2026-01-05\n")
    assert db.scalar(select(m.Participant.language)) == "cy"  # the study's default


def test_an_unknown_language_rejects_the_whole_file_by_line_and_column(db: Session, study: m.Study) -> None:
    with pytest.raises(InputError) as caught:
        enrolment.import_csv(db, study, HEADER
                             + "E1,sam@example.nhs.uk,Sam,peer_worker,NORTH,2026-01-05,cy\n"
                             + "E2,alex@example.nhs.uk,,colleague,NORTH,2026-01-05,welsh\n"
                             + "E3,jo@example.nhs.uk,Jo,manager,NORTH,2026-01-05,fr\n")
    problems = [(p.line, p.field) for p in caught.value.problems]
    assert problems == [(3, "language"), (4, "language")]
    assert "'welsh' is not a language PeerPulse supports; use one of en, cy" in str(caught.value)
    db.rollback()
    assert db.scalar(select(func.count(m.Participant.id))) == 0


def test_a_study_file_names_its_default_language(tmp_path: Path) -> None:
    text = EXAMPLE.read_text()
    assert "\ndefault_language: en " in text
    text = text.replace("\ndefault_language: en ", "\n# default_language: en ")
    welsh = tmp_path / "welsh.yaml"
    welsh.write_text(text + "default_language: cy\n")
    spec, problems = read_study_file(welsh)
    assert problems == [] and spec is not None and spec.default_language == "cy"
    unknown = tmp_path / "unknown.yaml"
    unknown.write_text(text + "default_language: fr\n")
    assert "unknown language 'fr'" in str(read_study_file(unknown)[1][0])
    old = tmp_path / "old.yaml"
    old.write_text(text.replace("peer_worker@2", "peer_worker@1") + "default_language: cy\n")
    assert "peer_worker v1 has no 'cy' texts" in str(read_study_file(old)[1][0])


def test_rendered_welsh_email_is_welsh_with_a_welsh_date() -> None:
    base = MailSettings().base_url
    links = Links(survey_url(base, "t0k3n"), withdraw_url(base, "t0k3n"))
    email = render_survey_email(MessageContext(
        "remind", links=links, study_name="Astudiaeth", wave_label="3 mis",
        recipient_name="Siân", closes_at=dt.datetime(2026, 12, 5, 9, tzinfo=dt.UTC),
        zone=ZoneInfo("UTC"), first_wave=False, language="cy"))
    assert email.subject == "Nodyn atgoffa: mae eich arolwg am rolau gweithwyr cymheiriaid ar agor tan 5 Rhagfyr 2026"
    assert email.text.startswith("Annwyl Siân,")
    assert "tua 5 i 8 munud" in email.text and "Diolch yn fawr," in email.text
    assert '<html lang="cy">' in email.html and "Agor eich arolwg" in email.html
    english = render_survey_email(MessageContext(
        "remind", links=links, study_name="Study", wave_label="3 months",
        recipient_name="", closes_at=dt.datetime(2026, 12, 5, 9, tzinfo=dt.UTC),
        zone=ZoneInfo("UTC"), first_wave=False))
    assert english.subject.endswith("open until Saturday 5 December 2026")
    assert '<html lang="en-GB">' in english.html and english.text.startswith("Hello,")


def test_a_welsh_participant_gets_a_welsh_invitation_by_smtp(
    db: Session, staged: Staged, make_app: Callable[..., Flask], smtp_server: SmtpServer
) -> None:
    app = make_app(**smtp_config(smtp_server))
    settings = MailSettings.from_config(app.config)
    _study, people = make_study(2, name="Rolau cymheiriaid")
    people[0].language = "cy"
    assert people[0].contact is not None and people[1].contact is not None
    people[0].contact.name = "Siân"
    db.commit()
    queue_invites(db, staged, settings)
    assert staged(outbox.deliver, settings, OPENS).sent == 2
    by_recipient = {message["To"]: message for message in smtp_server.messages}
    welsh = by_recipient[people[0].contact.email]
    assert welsh["Subject"] == "Rolau cymheiriaid: eich arolwg 5 i 8 munud am rolau gweithwyr cymheiriaid"
    assert body_text(welsh).startswith("Annwyl Siân,")
    assert "Diolch am ymuno â'r astudiaeth Rolau cymheiriaid." in " ".join(body_text(welsh).split())
    english = by_recipient[people[1].contact.email]
    assert english["Subject"].startswith("Rolau cymheiriaid: your 5 to 8 minute survey")
