"""Messaging end to end, through a real SMTP server, the LMTP bounce receiver and a fake of
GOV.UK Notify: invite by email and text, bounce one email, fail one text permanently, fix the
address, resend once, remind later, unsubscribe by the List-Unsubscribe header."""

from __future__ import annotations

import datetime as dt
import re
import smtplib
from collections.abc import Callable
from email.message import EmailMessage
from zoneinfo import ZoneInfo

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from survey import models as m
from survey.commands.bounces import receipt_recorder
from survey.db import utcnow
from survey.messaging.bounces import bounce_receiver
from survey.scheduler import PassReport, run_pass
from survey.services import enrolment
from tests import factories as f
from tests.conftest import StaffLogin
from tests.scheduling.conftest import SmtpServer, free_port, smtp_config
from tests.scheduling.fake_notify import FakeNotify, status_callback
from tests.scheduling.test_receipts import dsn

LONDON = ZoneInfo("Europe/London")
DAY = dt.timedelta(days=1)
BOUNCES = "bounces@peerpulse.test"
CALLBACK = {"Authorization": "Bearer status-secret"}
FORM = "application/x-www-form-urlencoded"
ALEX, SAM = "+447700123456", "+447911123456"
LINK = re.compile(r"http://localhost/r/([A-Za-z0-9_-]+)\s")
UNSUBSCRIBE = re.compile(r"^<http://localhost(/r/[A-Za-z0-9_-]+/emails)>$")


def enrol(db: Session) -> None:
    """Alex (email and texts), Jo (email only), Sam (texts only); the wave opens today, as the
    pages and receipts go by the real clock; sending at any hour."""
    study = f.StudyFactory(code="pulse", send_hour_start=0, send_hour_end=24,
                           send_weekdays_only=False)
    f.TeamFactory(code="NORTH")
    f.WaveFactory(study=study, index=1, offset_days=0, window_days=21, reminder_offsets=[3, 7])
    db.flush()
    today = utcnow().astimezone(LONDON).date()
    enrolment.import_csv(db, study, (
        "external_id,email,name,role,team_code,anchor_date,mobile,channel\n"
        f"E1,alex@example.nhs.uk,Alex,colleague,NORTH,{today},+44 7700 123456,both\n"
        f"E2,jo@example.nhs.uk,Jo,manager,NORTH,{today},,\n"
        f"E3,,Sam,peer_worker,NORTH,{today},07911 123456,\n"))
    db.commit()


def run(app: Flask, db: Session, now: dt.datetime) -> PassReport:
    db.commit()
    report = run_pass(app, now)
    db.rollback()
    return report


def to(server: SmtpServer, address: str) -> list[EmailMessage]:
    return server.handler.to(address)


def token_of(message: EmailMessage) -> str:
    found = LINK.search(message.get_body(("plain",)).get_content())  # type: ignore[union-attr]
    assert found is not None
    return found.group(1)


def outbox_row(db: Session, **where: object) -> m.OutboxMessage:
    db.rollback()
    return db.scalars(select(m.OutboxMessage).filter_by(**where).order_by(
        m.OutboxMessage.id.desc()).limit(1)).one()


def test_messaging_end_to_end(
    db: Session, make_app: Callable[..., Flask], smtp_server: SmtpServer, notify: FakeNotify,
    client: FlaskClient, auth: StaffLogin,
) -> None:
    app = make_app(**smtp_config(smtp_server), **notify.config(), MAIL_BOUNCE_ADDRESS=BOUNCES,
                   NOTIFY_CALLBACK_TOKEN="status-secret")
    enrol(db)
    now = utcnow()
    # 1. Invite by email and by text: Alex both, Jo an email, Sam a text.
    first = run(app, db, now)
    assert (first.opened, first.delivery.sent) == (3, 4), first
    assert [len(to(smtp_server, a)) for a in ("alex@example.nhs.uk", "jo@example.nhs.uk")] == [1, 1]
    assert [len(notify.to(n)) for n in (ALEX, SAM)] == [1, 1]
    opens = db.scalars(select(m.Invitation.opens_at)).first()
    assert opens is not None

    # 2. Jo's email bounces (an RFC 3464 report to its VERP address, over LMTP).
    jo_invite = outbox_row(db, recipient="jo@example.nhs.uk")
    receiver = bounce_receiver(BOUNCES, receipt_recorder(app), port=free_port())
    receiver.start()
    try:
        with smtplib.LMTP("127.0.0.1", receiver.port) as lmtp:
            verp = f"bounces+{jo_invite.id}@peerpulse.test"
            lmtp.sendmail("", [verp], dsn(verp, "jo@example.nhs.uk", "failed", "5.1.1"))
    finally:
        receiver.stop()
    # 3. Sam's text fails for good (Notify's callback).
    api = app.test_client()
    answer = api.post("/sms/status", json=status_callback(notify.to(SAM)[0], "permanent-failure"),
                      headers=CALLBACK)
    assert answer.get_json() == {"recorded": True}
    db.rollback()
    people = {c.external_id: c.participant for c in db.scalars(select(m.Contact))}
    assert people["E2"].contact.email_failed_at is not None  # type: ignore[union-attr]
    assert people["E3"].contact.mobile_failed_at is not None  # type: ignore[union-attr]
    assert not people["E2"].reachable and not people["E3"].reachable

    # 4. An admin fixes Jo's address, then sends the invitation again: once, however often asked.
    admin = f.UserFactory(admin=True)
    db.commit()
    assert auth.login(admin.email).status_code == 302
    enrolment.save_participant(db, people["E2"].study, {
        "external_id": "E2", "email": "jo.new@example.nhs.uk", "name": "Jo", "role": "manager",
        "team_code": "NORTH", "anchor_date": str(people["E2"].anchor_date), "mobile": "",
        "channel": "email", "language": "en"}, None, people["E2"])
    db.commit()
    resend = f"/admin/studies/pulse/participants/{people['E2'].code}/resend"
    assert client.post(resend).status_code == 303
    assert client.post(resend).status_code == 303
    resent = run(app, db, now + dt.timedelta(minutes=5))
    assert resent.delivery.sent == 1
    [jo_new] = to(smtp_server, "jo.new@example.nhs.uk")
    assert run(app, db, now + dt.timedelta(minutes=6)).delivery.sent == 0
    events = db.scalars(select(m.AuditEvent).where(m.AuditEvent.action == "outbox.resend")).all()
    assert len(events) == 1 and "@" not in str(events[0].detail)

    # 5. Alex asks to be reminded later (in 3 days at 10:00 London), from the link's page.
    alex_token = token_of(to(smtp_server, "alex@example.nhs.uk")[0])
    asked = api.post(f"/r/{alex_token}/later", data="days=3&hour=10", content_type=FORM)
    assert asked.status_code == 200
    db.rollback()
    remind_at = db.scalars(select(m.Invitation.remind_at).where(
        m.Invitation.participant_id == people["E1"].id)).one()
    assert remind_at is not None and remind_at.astimezone(LONDON).hour == 10

    # 6. Jo unsubscribes with the header of the resent email (the one-click POST).
    header = UNSUBSCRIBE.match(str(jo_new["List-Unsubscribe"]))
    assert header is not None and jo_new["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    done = api.post(header.group(1), data="List-Unsubscribe=One-Click", content_type=FORM)
    assert done.status_code == 200

    # The day-3 reminder: no one (Alex waits for their time, Jo unsubscribed, Sam unreachable).
    day3 = run(app, db, opens + 3 * DAY + dt.timedelta(minutes=1))
    if opens + 3 * DAY < remind_at:
        assert (day3.reminded, day3.delivery.sent) == (0, 0)
    # At Alex's time: one reminder, by email and text; not again.
    later = run(app, db, remind_at)
    assert (later.reminded, later.delivery.sent) == (1, 2)
    assert run(app, db, remind_at).reminded == 0
    # The day-7 reminder: Alex only; Jo (unsubscribed, still in the study) and Sam get nothing.
    day7 = run(app, db, opens + 7 * DAY + dt.timedelta(minutes=1))
    assert (day7.reminded, day7.delivery.sent) == (1, 2)
    assert len(to(smtp_server, "alex@example.nhs.uk")) == 3 and len(notify.to(ALEX)) == 3
    assert len(to(smtp_server, "jo.new@example.nhs.uk")) == 1 and len(notify.to(SAM)) == 1
    assert len(to(smtp_server, "jo@example.nhs.uk")) == 1
    db.rollback()
    assert people["E2"].is_active and people["E2"].email_opted_out_at is not None

    # Jo's page shows the story in order, naming channels and never an address in the timeline.
    page = client.get(f"/admin/studies/pulse/participants/{people['E2'].code}/edit")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    story = html[html.index('id="timeline-title"'):html.index("</table>", html.index(
        'id="timeline-title"'))]
    order = ["enrolled", "invited", "bounced / failed for good", "contact marked unreachable",
             "sent again after an address was fixed", "opted out of emails"]
    positions = [story.index(f"<td>{what}</td>") for what in order]
    assert positions == sorted(positions), story
    assert "by email" in story and "@" not in story
    alex = client.get(f"/admin/studies/pulse/participants/{people['E1'].code}/edit")
    alex_story = alex.get_data(as_text=True)
    assert "<td>asked to be reminded later</td>" in alex_story
    assert alex_story.count("<td>reminded</td>") == 4  # two reminders, each by email and text
