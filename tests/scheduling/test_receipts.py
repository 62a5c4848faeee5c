"""Delivery receipts: Notify's status callback (through the local fake of Notify), SMTP refusals
at sending, and bounces over a real LMTP conversation on 127.0.0.1 (VERP, RFC 3464)."""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
from collections.abc import Callable
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from survey import models as m
from survey.commands.bounces import receipt_recorder
from survey.db import utcnow
from survey.messaging.bounces import bounce_receiver, parse_dsn
from survey.messaging.email import MailSettings, parse_verp, verp_address
from survey.messaging.sms import SmsSettings
from survey.services import enrolment, invitations, outbox, receipts
from tests import factories as f
from tests.conftest import StaffLogin
from tests.scheduling.conftest import ANCHOR, SmtpServer, Staged, free_port, smtp_config
from tests.scheduling.fake_notify import FakeNotify, status_callback
from tests.scheduling.test_sms import ALEX, CSV, SAM

DAY = dt.timedelta(days=1)
CALLBACK = {"Authorization": "Bearer status-secret"}
BOUNCES = "bounces@peerpulse.test"


# Receipts are recorded on the real clock, so these studies open today and send at any hour.
OPENS = utcnow()


def enrol(db: Session) -> m.Study:
    """Sam (texts only), Alex (email and texts) and Jo (email only), enrolled today."""
    today = OPENS.astimezone(ZoneInfo("Europe/London")).date()
    study = f.StudyFactory(code="pulse", send_hour_start=0, send_hour_end=24,
                           send_weekdays_only=False)
    f.TeamFactory(code="NORTH")
    f.WaveFactory(study=study, index=1, offset_days=0, window_days=21, reminder_offsets=[3, 7])
    db.flush()
    enrolment.import_csv(db, study, CSV.replace(str(ANCHOR), str(today)))
    db.commit()
    return study


def texts(db: Session) -> dict[str, m.OutboxMessage]:
    """The latest text queued for each number (read afresh)."""
    db.commit()
    db.expire_all()
    rows = db.scalars(select(m.OutboxMessage).where(m.OutboxMessage.channel == "sms")
                      .order_by(m.OutboxMessage.id))
    return {row.recipient: row for row in rows}


def audit(db: Session, action: str) -> list[m.AuditEvent]:
    db.commit()
    return list(db.scalars(select(m.AuditEvent).where(m.AuditEvent.action == action)))


def invite(db: Session, staged: Staged, app: Flask, now: dt.datetime = OPENS) -> outbox.DeliveryReport:
    mail = MailSettings.from_config(app.config)
    invitations.materialise(db, now - DAY)
    staged(invitations.open_due, mail, now)
    report: outbox.DeliveryReport = staged(outbox.deliver, mail, now,
                                           sms_settings=SmsSettings.from_config(app.config))
    return report


@pytest.fixture
def sms_app(make_app: Callable[..., Flask], notify: FakeNotify) -> Flask:
    return make_app(**notify.config(), NOTIFY_CALLBACK_TOKEN="status-secret")


def test_notify_callbacks_record_receipts_and_a_dead_number_is_not_texted_again(
    db: Session, staged: Staged, sms_app: Flask, notify: FakeNotify, client: FlaskClient,
    auth: StaffLogin,
) -> None:
    enrol(db)
    assert invite(db, staged, sms_app).sent == 4
    api = sms_app.test_client()
    sam, alex = notify.to(SAM)[0], notify.to(ALEX)[0]
    # Delivered (twice: the second changes nothing), then a late "sending" changes nothing.
    for expected in (True, False):
        answer = api.post("/sms/status", json=status_callback(alex, "delivered"), headers=CALLBACK)
        assert (answer.status_code, answer.get_json()) == (200, {"recorded": expected})
    assert api.post("/sms/status", json=status_callback(alex, "sending"),
                    headers=CALLBACK).get_json() == {"recorded": False}
    # A permanent failure: Sam's number is dead; Sam (texts only) is sent nothing more.
    assert api.post("/sms/status", json=status_callback(sam, "permanent-failure"),
                    headers=CALLBACK).get_json() == {"recorded": True}
    # Arriving out of order after the permanent failure, "delivered" changes nothing.
    assert api.post("/sms/status", json=status_callback(sam, "delivered"),
                    headers=CALLBACK).get_json() == {"recorded": False}
    rows = texts(db)
    assert (rows[ALEX].receipt, rows[ALEX].status) == (m.Receipt.DELIVERED, m.OutboxStatus.SENT)
    assert (rows[SAM].receipt, rows[SAM].status) == (m.Receipt.PERMANENT_FAILURE,
                                                   m.OutboxStatus.FAILED)
    contacts = {c.mobile: c for c in db.scalars(select(m.Contact))}
    assert contacts[SAM].mobile_failed_at is not None and contacts[ALEX].mobile_failed_at is None
    [event] = audit(db, "contact.unreachable")
    assert event.target_id == contacts[SAM].participant.code
    assert event.detail["channel"] == "sms" and SAM not in str(event.detail)
    assert len(audit(db, "outbox.receipt")) == 2
    assert not contacts[SAM].participant.reachable
    # Day 3 reminders: Alex gets a text and an email, Jo an email, Sam nothing.
    mail = MailSettings.from_config(sms_app.config)
    staged(invitations.queue_reminders, mail, OPENS + 3 * DAY)
    report = staged(outbox.deliver, mail, OPENS + 3 * DAY,
                    sms_settings=SmsSettings.from_config(sms_app.config))
    assert report.sent == 3
    assert [len(notify.to(n)) for n in (SAM, ALEX)] == [1, 2]
    # The outbox page shows the receipts, without the number.
    user = f.UserFactory(admin=True)
    db.commit()
    assert auth.login(user.email).status_code == 302
    page = client.get("/admin/outbox").get_data(as_text=True)
    assert "Delivery receipts" in page and "permanent-failure" in page
    assert "Notify permanent-failure" in page and SAM not in page


def test_a_bad_callback_is_refused_and_writes_nothing(
    db: Session, staged: Staged, sms_app: Flask, make_app: Callable[..., Flask],
    notify: FakeNotify,
) -> None:
    enrol(db)
    invite(db, staged, sms_app)
    good = status_callback(notify.to(SAM)[0], "permanent-failure")
    api = sms_app.test_client()
    assert make_app().test_client().post("/sms/status", json=good).status_code == 404  # off
    assert api.post("/sms/status", json=good).status_code == 401
    assert api.post("/sms/status", json=good,
                    headers={"Authorization": "Bearer status-secreT"}).status_code == 401
    assert api.post("/sms/status", json=good,
                    headers={"Authorization": "Basic status-secret"}).status_code == 401
    assert api.post("/sms/status", data="{", headers=CALLBACK,
                    content_type="application/json").status_code == 400
    assert api.post("/sms/status", json={**good, "status": "lost"}, headers=CALLBACK).status_code == 400
    assert api.post("/sms/status", json={**good, "reference": None}, headers=CALLBACK).status_code == 400
    reference = str(good["reference"])
    forged = reference.rsplit(".", 1)[0] + ".20000101000000000000"
    for wrong in (forged, "sms:invite:999.999.20260105090000000000", "nonsense"):
        assert api.post("/sms/status", json={**good, "reference": wrong},
                        headers=CALLBACK).status_code == 404
    db.expire_all()
    assert db.scalar(select(func.count()).where(m.OutboxMessage.receipt.is_not(None))) == 0
    assert db.scalar(select(func.count()).where(m.Contact.mobile_failed_at.is_not(None))) == 0
    assert audit(db, "outbox.receipt") == []


def test_a_temporary_failure_is_resent_with_backoff_up_to_the_limit(
    db: Session, staged: Staged, sms_app: Flask, notify: FakeNotify
) -> None:
    enrol(db)
    invite(db, staged, sms_app)
    api = sms_app.test_client()
    mail, sms = MailSettings.from_config(sms_app.config), SmsSettings.from_config(sms_app.config)
    now = OPENS
    for n in range(1, receipts.RETRIES + 1):
        latest = notify.to(SAM)[-1]
        for _twice in range(2):  # a repeated receipt queues no second resend
            api.post("/sms/status", json=status_callback(latest, "temporary-failure"),
                     headers=CALLBACK)
        retry = texts(db)[SAM]
        assert retry.dedupe_key.endswith(f":retry{n}") and retry.status == m.OutboxStatus.PENDING
        # The receipt is recorded "now" (the real clock): the resend waits from then.
        wait = retry.next_attempt_at - retry.created_at
        assert wait == receipts.retry_delay(n)
        assert staged(outbox.deliver, mail, now, sms_settings=sms).sent == 0  # not due yet
        now = max(now, retry.next_attempt_at)
        assert staged(outbox.deliver, mail, now, sms_settings=sms).sent == 1
        assert len(notify.to(SAM)) == n + 1
        assert notify.to(SAM)[-1].body != latest.body  # a fresh personal link
    assert [receipts.retry_delay(n) for n in (1, 2, 3)] == [
        dt.timedelta(minutes=30), dt.timedelta(hours=2), dt.timedelta(hours=8)]
    # After the limit, a temporary failure is recorded but not resent.
    api.post("/sms/status", json=status_callback(notify.to(SAM)[-1], "temporary-failure"),
             headers=CALLBACK)
    last = texts(db)[SAM]
    assert last.receipt == m.Receipt.TEMPORARY_FAILURE and "gave up after 3 resends" in str(last.last_error)
    assert staged(outbox.deliver, mail, now + 30 * DAY, sms_settings=sms).sent == 0
    assert len(notify.to(SAM)) == receipts.RETRIES + 1


def test_delivered_after_a_temporary_failure_cancels_the_resend(
    db: Session, staged: Staged, sms_app: Flask, notify: FakeNotify
) -> None:
    enrol(db)
    invite(db, staged, sms_app)
    api = sms_app.test_client()
    first = notify.to(ALEX)[0]
    api.post("/sms/status", json=status_callback(first, "temporary-failure"), headers=CALLBACK)
    api.post("/sms/status", json=status_callback(first, "delivered"), headers=CALLBACK)
    rows = db.scalars(select(m.OutboxMessage).where(m.OutboxMessage.recipient == ALEX)
                      .order_by(m.OutboxMessage.id)).all()
    assert [(r.status, r.receipt) for r in rows] == [
        (m.OutboxStatus.SENT, m.Receipt.DELIVERED), (m.OutboxStatus.CANCELLED, None)]
    mail, sms = MailSettings.from_config(sms_app.config), SmsSettings.from_config(sms_app.config)
    assert staged(outbox.deliver, mail, OPENS + DAY, sms_settings=sms).sent == 0


def test_an_smtp_refusal_marks_the_email_dead_and_texts_go_instead(
    db: Session, staged: Staged, make_app: Callable[..., Flask], smtp_server: SmtpServer,
    notify: FakeNotify,
) -> None:
    app = make_app(**smtp_config(smtp_server), **notify.config())
    enrol(db)
    smtp_server.handler.refuse = {"alex@example.nhs.uk", "jo@example.nhs.uk"}
    report = invite(db, staged, app)
    assert (report.sent, report.failed) == (2, 2)  # two texts; both emails refused (550)
    refused = db.scalars(select(m.OutboxMessage).where(m.OutboxMessage.channel == "email")).all()
    for message in refused:
        assert (message.status, message.receipt) == (m.OutboxStatus.FAILED,
                                                     m.Receipt.PERMANENT_FAILURE)
        assert "550" in str(message.last_error) and "@" not in str(message.last_error)
        assert message.body_text == ""
    contacts = {c.external_id: c for c in db.scalars(select(m.Contact))}
    assert contacts["E2"].email_failed_at is not None and contacts["E3"].email_failed_at is not None
    assert len(audit(db, "contact.unreachable")) == 2
    # Jo (email only, no mobile) can be reached no more; Alex still by text.
    reachable = {c.external_id: c.participant.reachable for c in contacts.values()}
    assert reachable == {"E1": True, "E2": True, "E3": False}
    ids = set(db.scalars(select(m.Participant.id).where(m.Participant.reachable)))
    assert ids == {contacts["E1"].participant_id, contacts["E2"].participant_id}
    mail = MailSettings.from_config(app.config)
    staged(invitations.queue_reminders, mail, OPENS + 3 * DAY)
    again = staged(outbox.deliver, mail, OPENS + 3 * DAY,
                   sms_settings=SmsSettings.from_config(app.config))
    assert (again.sent, again.failed) == (2, 0)
    assert len(smtp_server.messages) == 0 and len(notify.to(ALEX)) == 2


def test_a_refusal_not_about_the_address_fails_the_message_but_keeps_the_contact(
    db: Session, staged: Staged, make_app: Callable[..., Flask], smtp_server: SmtpServer,
) -> None:
    app = make_app(**smtp_config(smtp_server))
    enrol(db)
    smtp_server.handler.rejections = 2  # both emails: 554 at DATA (content, not the address)
    report = invite(db, staged, app)
    assert report.failed == 2
    failed = db.scalars(select(m.OutboxMessage).where(m.OutboxMessage.channel == "email")).all()
    assert {(r.status, r.receipt) for r in failed} == {
        (m.OutboxStatus.FAILED, m.Receipt.PERMANENT_FAILURE)}
    assert db.scalar(select(func.count()).where(m.Contact.email_failed_at.is_not(None))) == 0
    assert audit(db, "contact.unreachable") == []


DSN = """\
From: MAILER-DAEMON@mx.example.nhs.uk (Mail Delivery System)
To: {to}
Subject: Undelivered Mail Returned to Sender
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B1"

--B1
Content-Type: text/plain

I'm sorry to have to inform you that your message could not be delivered.

--B1
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.nhs.uk
Arrival-Date: Mon, 5 Jan 2026 09:00:02 +0000

Final-Recipient: rfc822; {rcpt}
Original-Recipient: rfc822;{rcpt}
Action: {action}
Status: {status}
Diagnostic-Code: smtp; {status_word} <{rcpt}>: Recipient address rejected

--B1
Content-Type: message/rfc822

Subject: Your survey
Message-ID: <invite.1@peerpulse.test>

--B1--
"""


def dsn(to: str, rcpt: str, action: str, status: str) -> bytes:
    code = "550" if status.startswith("5") else "451"
    return DSN.format(to=to, rcpt=rcpt, action=action, status=status,
                      status_word=f"{code} {status}").replace("\n", "\r\n").encode()


def test_dsn_parsing_classifies_and_drops_addresses() -> None:
    [failed] = parse_dsn(dsn("bounces+1@x", "jo@example.nhs.uk", "failed", "5.1.1"))
    assert (failed.action, failed.status, failed.receipt) == ("failed", "5.1.1",
                                                             m.Receipt.PERMANENT_FAILURE)
    assert "jo@example" not in failed.detail and "550 5.1.1" in failed.detail
    [delayed] = parse_dsn(dsn("bounces+1@x", "jo@example.nhs.uk", "delayed", "4.4.1"))
    assert delayed.receipt == m.Receipt.TEMPORARY_FAILURE
    [delivered] = parse_dsn(dsn("bounces+1@x", "jo@example.nhs.uk", "delivered", "2.0.0"))
    assert delivered.receipt == m.Receipt.DELIVERED
    assert parse_dsn(b"Subject: out of office\r\n\r\nI am away.\r\n") == []
    assert parse_dsn(b"\xff\xfe not mail at all") == []
    assert verp_address(BOUNCES, 42) == "bounces+42@peerpulse.test"
    assert parse_verp("<Bounces+42@PeerPulse.test>", BOUNCES) == 42
    assert parse_verp("bounces+42@elsewhere.test", BOUNCES) is None
    assert parse_verp("other+42@peerpulse.test", BOUNCES) is None
    assert parse_verp("bounces+x@peerpulse.test", BOUNCES) is None
    assert verp_address("", 42) is None


def test_bounces_arrive_by_lmtp_and_mark_the_address_dead(
    db: Session, staged: Staged, make_app: Callable[..., Flask], smtp_server: SmtpServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = make_app(**smtp_config(smtp_server), MAIL_BOUNCE_ADDRESS=BOUNCES)
    enrol(db)  # Alex and Jo have email; Alex also gets texts (file backend)
    invite(db, staged, app)
    emails = {msg.recipient: msg for msg in db.scalars(
        select(m.OutboxMessage).where(m.OutboxMessage.channel == "email"))}
    jo, alex = emails["jo@example.nhs.uk"], emails["alex@example.nhs.uk"]
    assert sorted(smtp_server.handler.senders) == sorted(
        [f"bounces+{jo.id}@peerpulse.test", f"bounces+{alex.id}@peerpulse.test"])
    receiver = bounce_receiver(BOUNCES, receipt_recorder(app), port=free_port())
    receiver.start()
    caplog.set_level(logging.INFO, logger="survey.messaging.bounces")
    try:
        with smtplib.LMTP("127.0.0.1", receiver.port) as lmtp:
            # Jo's email bounced (twice: the second changes nothing); Alex's was delayed.
            for _twice in range(2):
                lmtp.sendmail("", [f"bounces+{jo.id}@peerpulse.test"],
                              dsn(f"bounces+{jo.id}@peerpulse.test", "jo@example.nhs.uk",
                                  "failed", "5.1.1"))
            lmtp.sendmail("", [f"bounces+{alex.id}@peerpulse.test"],
                          dsn(f"bounces+{alex.id}@peerpulse.test", "alex@example.nhs.uk",
                              "delayed", "4.4.1"))
            # A bounce for a message that does not exist is logged and dropped.
            lmtp.sendmail("", ["bounces+999999@peerpulse.test"],
                          dsn("bounces+999999@peerpulse.test", "x@example.org", "failed", "5.1.1"))
            # Any other recipient is refused.
            with pytest.raises(smtplib.SMTPRecipientsRefused):
                lmtp.sendmail("", ["jo@example.nhs.uk"], b"Subject: hi\r\n\r\nhi\r\n")
    finally:
        receiver.stop()
    db.commit()  # end the test session's read transaction: read what the receiver committed
    db.expire_all()
    jo_row, alex_row = db.get(m.OutboxMessage, jo.id), db.get(m.OutboxMessage, alex.id)
    assert jo_row is not None and alex_row is not None
    assert (jo_row.status, jo_row.receipt) == (m.OutboxStatus.FAILED, m.Receipt.PERMANENT_FAILURE)
    assert "5.1.1" in str(jo_row.receipt_detail) and "@" not in str(jo_row.receipt_detail)
    assert alex_row.receipt == m.Receipt.TEMPORARY_FAILURE
    contacts = {c.external_id: c for c in db.scalars(select(m.Contact))}
    assert contacts["E3"].email_failed_at is not None and contacts["E2"].email_failed_at is None
    resend = db.scalars(select(m.OutboxMessage).where(
        m.OutboxMessage.dedupe_key == f"{alex.dedupe_key}:retry1")).one()
    assert resend.channel == "email" and resend.status == m.OutboxStatus.PENDING
    assert len(audit(db, "contact.unreachable")) == 1
    assert "unknown outbox message 999999" in caplog.text
    assert "@" not in caplog.text  # no address in any log line
