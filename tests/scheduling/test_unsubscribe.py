"""List-Unsubscribe (RFC 8058): every invitation and reminder email names a one-click link that
stops emails for the study without withdrawing; texts, where there are any, go on."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from survey import models as m
from survey.scheduler import PassReport, run_pass
from survey.services import enrolment
from tests import factories as f
from tests.scheduling.conftest import ANCHOR, OPENS, SmtpServer, smtp_config
from tests.scheduling.fake_notify import FakeNotify

DAY = dt.timedelta(days=1)
CSV = ("external_id,email,name,role,team_code,anchor_date,mobile,channel\n"
       f"E1,alex@example.nhs.uk,Alex,colleague,NORTH,{ANCHOR},+44 7700 123456,both\n"
       f"E2,jo@example.nhs.uk,Jo,manager,NORTH,{ANCHOR},,\n")
HEADER = re.compile(r"^<(http://localhost/r/([A-Za-z0-9_-]+)/emails)>$")
ONE_CLICK = "List-Unsubscribe=One-Click"
FORM = "application/x-www-form-urlencoded"


def enrol(db: Session) -> None:
    study = f.StudyFactory(code="pulse")
    f.TeamFactory(code="NORTH")
    f.WaveFactory(study=study, index=1, offset_days=0, window_days=21, reminder_offsets=[3, 7])
    db.flush()
    enrolment.import_csv(db, study, CSV)
    db.commit()


def run(app: Flask, db: Session, now: dt.datetime) -> PassReport:
    db.commit()
    report = run_pass(app, now)
    db.expire_all()
    return report


def unsubscribe_url(message: object) -> str:
    match = HEADER.match(str(message["List-Unsubscribe"]))  # type: ignore[index]
    assert match is not None, message["List-Unsubscribe"]  # type: ignore[index]
    return match.group(1)


def test_one_click_unsubscribe_stops_emails_not_texts_and_is_audited(
    db: Session, make_app: Callable[..., Flask], smtp_server: SmtpServer, notify: FakeNotify
) -> None:
    app = make_app(**smtp_config(smtp_server), **notify.config(), WTF_CSRF_ENABLED=True)
    enrol(db)
    assert run(app, db, OPENS).delivery.sent == 3  # Alex: email and text; Jo: email
    for message in smtp_server.messages:
        assert message["List-Unsubscribe-Post"] == ONE_CLICK
        assert unsubscribe_url(message).endswith("/emails")
        assert "To stop these emails without leaving the study:" in message.get_body(
            ("plain",)).get_content()  # type: ignore[union-attr]
    alex = unsubscribe_url(smtp_server.handler.to("alex@example.nhs.uk")[0])
    client = app.test_client()
    # A GET only asks: nothing changes (a mail scanner following links unsubscribes no one).
    page = client.get(alex)
    assert page.status_code == 200 and b"Stop emails" in page.data
    assert db.scalar(select(m.Participant.email_opted_out_at).where(
        m.Participant.email_opted_out_at.is_not(None))) is None
    db.rollback()  # end this read, so that the next one sees what the app commits
    # The page's own form needs its CSRF token; the one-click body needs none (RFC 8058).
    assert client.post(alex, data="stop=1", content_type=FORM).status_code == 400
    assert client.post(alex, data=f"{ONE_CLICK}&csrf_token=x", content_type=FORM).status_code == 400
    done = client.post(alex, data=ONE_CLICK, content_type=FORM)
    assert done.status_code == 200 and b"any more emails about this study" in done.data
    assert b"will still come by text message" in done.data
    # Only with the link's own token: a made-up token changes nothing.
    assert client.post("/r/not-a-real-token-at-all-000000/emails", data=ONE_CLICK,
                       content_type=FORM).status_code in (404, 410)
    # Twice is once.
    assert client.post(alex, data=ONE_CLICK, content_type=FORM).status_code == 200
    db.rollback()
    events = db.scalars(select(m.AuditEvent).where(
        m.AuditEvent.action == "participant.email_opt_out")).all()
    assert [e.detail["source"] for e in events] == ["one-click"]
    people = {p.contact.external_id: p for p in db.scalars(select(m.Participant))}  # type: ignore[union-attr]
    assert people["E1"].email_opted_out_at is not None and people["E1"].is_active
    assert people["E2"].email_opted_out_at is None

    # The reminder: Alex by text only, Jo by email; nothing sent twice.
    before = len(smtp_server.messages)
    reminded = run(app, db, OPENS + 3 * DAY)
    assert reminded.delivery.sent == 2
    assert [msg["To"] for msg in smtp_server.messages[before:]] == ["jo@example.nhs.uk"]
    assert len(notify.to("+447700123456")) == 2
    # A URL once sent is not kept in the outbox.
    assert db.scalars(select(m.OutboxMessage.unsubscribe_url).where(
        m.OutboxMessage.status == m.OutboxStatus.SENT, m.OutboxMessage.unsubscribe_url.is_not(None)
    )).all() == []


def test_an_email_only_participant_who_unsubscribes_is_unreachable_but_still_in_the_study(
    db: Session, make_app: Callable[..., Flask], smtp_server: SmtpServer
) -> None:
    app = make_app(**smtp_config(smtp_server))
    enrol(db)
    run(app, db, OPENS)
    jo = unsubscribe_url(smtp_server.handler.to("jo@example.nhs.uk")[0])
    page = app.test_client().post(jo, data="", content_type=FORM)  # the page's button
    assert page.status_code == 200 and b"no other way to reach you" in page.data
    db.rollback()
    person = db.scalars(select(m.Participant).join(m.Contact).where(
        m.Contact.email == "jo@example.nhs.uk")).one()
    assert person.is_active and not person.reachable
    assert db.scalar(select(m.Participant.id).where(
        m.Participant.id == person.id, ~m.Participant.reachable)) == person.id
    before = len(smtp_server.messages)
    run(app, db, OPENS + 3 * DAY)
    assert [msg["To"] for msg in smtp_server.messages[before:]] == ["alex@example.nhs.uk"]
