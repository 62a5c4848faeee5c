"""Text messages end to end through a local fake of GOV.UK Notify: enrol, invite, remind, STOP.

Also: retries of temporary failures, permanent failures on the outbox page, the inbound
callback's authentication, the link page's opt-out, and the length of the texts.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from survey import models as m
from survey.config import Config, ConfigError, finalise
from survey.messaging.email import MailSettings
from survey.messaging.sms import SmsSettings, count_segments, render_survey_sms
from survey.scheduler import PassReport, run_pass
from survey.services import enrolment, invitations, outbox
from survey.services.tokens import find_invitation, survey_url
from tests import factories as f
from tests.conftest import StaffLogin
from tests.scheduling.conftest import ANCHOR, OPENS, Staged
from tests.scheduling.fake_notify import FakeNotify

DAY = dt.timedelta(days=1)
MINUTE = dt.timedelta(minutes=1)
TOKEN = "Bearer inbound-secret"
SAM, ALEX = "+447911123456", "+447700123456"  # valid UK mobile numbers (not Ofcom drama ones)
CSV = ("external_id,email,name,role,team_code,anchor_date,mobile,channel\n"
       f"E1,,Sam,peer_worker,NORTH,{ANCHOR},07911 123456,\n"  # a number only: texts
       f"E2,alex@example.nhs.uk,Alex,colleague,NORTH,{ANCHOR},+44 7700 123456,both\n"
       f"E3,jo@example.nhs.uk,Jo,manager,NORTH,{ANCHOR},,\n")  # email only
LINK = re.compile(r"http://localhost/r/([A-Za-z0-9_-]+)")


def enrol(db: Session) -> m.Study:
    study = f.StudyFactory(code="pulse")
    f.TeamFactory(code="NORTH")
    f.WaveFactory(study=study, index=1, offset_days=0, window_days=21, reminder_offsets=[3, 7])
    db.flush()
    enrolment.import_csv(db, study, CSV)
    db.commit()
    return study


def emails_to(app: Flask, address: str) -> list[str]:
    """The .eml files the file mail backend wrote for one address."""
    folder = Path(app.config["MAIL_FILE_DIR"])
    return [p.read_text() for p in sorted(folder.glob("*.eml")) if f"To: {address}" in p.read_text()]


def run(app: Flask, db: Session, now: dt.datetime) -> PassReport:
    """A dispatch pass beside the test's session, which then reads afresh."""
    db.commit()
    report = run_pass(app, now)
    db.expire_all()
    return report


def sms_app(make_app: Callable[..., Flask], notify: FakeNotify) -> Flask:
    return make_app(**notify.config(), SMS_INBOUND_TOKEN="inbound-secret")


def test_enrol_invite_remind_stop_then_no_more_texts(
    db: Session, make_app: Callable[..., Flask], notify: FakeNotify
) -> None:
    app = sms_app(make_app, notify)
    enrol(db)
    contacts = {c.external_id: c for c in db.scalars(select(m.Contact))}
    assert (contacts["E1"].mobile, contacts["E1"].email, contacts["E1"].channel) == (
        SAM, None, m.Channel.SMS)
    assert (contacts["E2"].mobile, contacts["E2"].channel) == (ALEX, m.Channel.BOTH)
    assert (contacts["E3"].mobile, contacts["E3"].channel) == (None, m.Channel.EMAIL)

    # Invitations: a text to Sam, a text and an email to Alex, an email to Jo.
    first = run(app, db, OPENS)
    assert (first.opened, first.delivery.sent) == (3, 4), first
    assert sorted(t.phone_number for t in notify.received) == sorted([SAM, ALEX])
    for text in notify.received:
        assert "Reply STOP to stop texts" in text.body
        assert count_segments(text.body).segments == 1
    assert len(emails_to(app, "alex@example.nhs.uk")) == 1
    assert len(emails_to(app, "jo@example.nhs.uk")) == 1
    # The text carries Sam's personal link. (The survey pages check the window against the
    # real clock; test_delivery follows an emailed link into the survey.)
    token = LINK.search(notify.to(SAM)[0].body)
    assert token is not None
    invitation = find_invitation(db, token.group(1))
    assert invitation is not None and invitation.participant.contact.mobile == SAM  # type: ignore[union-attr]
    client = app.test_client()
    # Exactly once: a second pass sends nothing; keys differ by channel.
    assert run(app, db, OPENS + MINUTE).delivery.sent == 0
    keys = sorted(db.scalars(select(m.OutboxMessage.dedupe_key)))
    assert len(keys) == 4 and len(set(keys)) == 4
    assert sum(k.startswith("sms:invite:") for k in keys) == 2

    # First reminder (day 3): texts again to Sam and Alex.
    reminded = run(app, db, OPENS + 3 * DAY)
    assert (reminded.reminded, reminded.delivery.sent) == (3, 4)
    assert [len(notify.to(n)) for n in (SAM, ALEX)] == [2, 2]
    assert "reminder" in notify.to(SAM)[1].body

    # Sam replies STOP (Notify's inbound callback); Alex stops texts on the link's page.
    stop = client.post("/sms/inbound", headers={"Authorization": TOKEN}, json={
        "id": "1", "source_number": SAM.lstrip("+"), "destination_number": "07700900000",
        "message": "Stop", "date_received": "2026-01-08 10:00:00.000000"})
    assert stop.status_code == 200 and stop.get_json() == {"stopped": 1}
    alex_token = LINK.search(notify.to(ALEX)[1].body)
    assert alex_token is not None
    page = client.get(f"/r/{alex_token.group(1)}/texts")
    assert b"Stop text messages" in page.data
    done = client.post(f"/r/{alex_token.group(1)}/texts", data="",
                       content_type="application/x-www-form-urlencoded")
    assert done.status_code == 200 and b"we will not send you any more text messages" in done.data
    assert b"will still come by email" in done.data
    db.expire_all()
    events = db.scalars(select(m.AuditEvent).where(
        m.AuditEvent.action == "participant.sms_opt_out")).all()
    assert sorted(e.detail["source"] for e in events) == ["link", "reply"]

    # Second reminder (day 7): no more texts; Alex and Jo still get email; Sam gets nothing.
    later = run(app, db, OPENS + 7 * DAY)
    assert later.delivery.sent == 2
    assert [len(notify.to(n)) for n in (SAM, ALEX)] == [2, 2]
    assert len(emails_to(app, "alex@example.nhs.uk")) == 3
    assert len(emails_to(app, "jo@example.nhs.uk")) == 3
    assert run(app, db, OPENS + 8 * DAY).delivery.sent == 0
    assert len(notify.received) == 4


def test_a_text_queued_before_stop_is_cancelled_at_sending(
    db: Session, staged: Staged, make_app: Callable[..., Flask], notify: FakeNotify
) -> None:
    app = sms_app(make_app, notify)
    enrol(db)
    mail = MailSettings.from_config(app.config)
    invitations.materialise(db, OPENS - DAY)
    staged(invitations.open_due, mail, OPENS)
    sam = db.scalars(select(m.Contact).where(m.Contact.mobile == SAM)).one().participant
    sam.sms_opted_out_at = OPENS
    db.commit()
    report = staged(outbox.deliver, mail, OPENS, sms_settings=SmsSettings.from_config(app.config))
    assert (report.sent, report.cancelled) == (3, 1)
    cancelled = db.scalars(select(m.OutboxMessage).where(
        m.OutboxMessage.status == m.OutboxStatus.CANCELLED)).one()
    assert cancelled.last_error is not None and "no more texts" in cancelled.last_error
    assert notify.to(SAM) == []


def test_temporary_failures_retry_with_backoff_permanent_ones_fail_and_show(
    db: Session, staged: Staged, make_app: Callable[..., Flask], notify: FakeNotify,
    client: FlaskClient, auth: StaffLogin,
) -> None:
    app = sms_app(make_app, notify)
    enrol(db)
    mail = MailSettings.from_config(app.config)
    sms = SmsSettings.from_config(app.config)
    invitations.materialise(db, OPENS - DAY)
    staged(invitations.open_due, mail, OPENS)
    notify.fail_next = [503]
    notify.refuse = {ALEX}
    first = staged(outbox.deliver, mail, OPENS, sms_settings=sms)
    # Emails 2 sent; Sam's text met a 503 (retry in 1 minute), Alex's number was refused.
    assert (first.sent, first.retrying, first.failed) == (2, 1, 1), first
    texts = {t.recipient: t for t in db.scalars(
        select(m.OutboxMessage).where(m.OutboxMessage.channel == "sms"))}
    assert (texts[SAM].status, texts[SAM].attempts, texts[SAM].next_attempt_at) == (
        m.OutboxStatus.PENDING, 1, OPENS + MINUTE)
    assert texts[SAM].last_error == "Notify 503: Service unavailable"
    assert texts[ALEX].status == m.OutboxStatus.FAILED
    assert texts[ALEX].last_error == "Notify 400: Not a UK mobile number"
    # Rate limited at the next try: the wait doubles.
    notify.fail_next = [429]
    assert staged(outbox.deliver, mail, OPENS + MINUTE, sms_settings=sms).retrying == 1
    db.expire_all()
    assert db.get(m.OutboxMessage, texts[SAM].id).next_attempt_at == OPENS + 3 * MINUTE  # type: ignore[union-attr]
    assert staged(outbox.deliver, mail, OPENS + 2 * MINUTE, sms_settings=sms).sent == 0
    assert staged(outbox.deliver, mail, OPENS + 3 * MINUTE, sms_settings=sms).sent == 1
    assert [len(notify.to(n)) for n in (SAM, ALEX)] == [1, 0]
    # The admin sees the refused text and why.
    user = f.UserFactory(admin=True)
    db.commit()
    assert auth.login(user.email).status_code == 302
    response = client.get("/admin/outbox")
    page = response.get_data(as_text=True)
    assert "invite (text) #" in page and "Notify 400: Not a UK mobile number" in page


def test_notify_unreachable_retries_the_whole_batch(
    db: Session, staged: Staged, make_app: Callable[..., Flask], notify: FakeNotify
) -> None:
    app = make_app(**{**notify.config(), "NOTIFY_BASE_URL": "http://127.0.0.1:9"})
    enrol(db)
    mail = MailSettings.from_config(app.config)
    invitations.materialise(db, OPENS - DAY)
    staged(invitations.open_due, mail, OPENS)
    report = staged(outbox.deliver, mail, OPENS, sms_settings=SmsSettings.from_config(app.config))
    assert (report.sent, report.retrying) == (2, 2)
    assert any("cannot reach GOV.UK Notify" in error for error in report.errors)


def test_inbound_callback_needs_its_bearer_token(
    db: Session, make_app: Callable[..., Flask], notify: FakeNotify
) -> None:
    enrol(db)
    off = make_app().test_client()
    body = {"source_number": "447911123456", "message": "STOP"}
    assert off.post("/sms/inbound", json=body).status_code == 404  # no token configured
    client = sms_app(make_app, notify).test_client()
    assert client.post("/sms/inbound", json=body).status_code == 401
    assert client.post("/sms/inbound", json=body,
                       headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.post("/sms/inbound", data="x", headers={"Authorization": TOKEN}).status_code == 400
    hello = client.post("/sms/inbound", json={**body, "message": "thanks!"},
                        headers={"Authorization": TOKEN})
    assert hello.get_json() == {"stopped": 0}
    db.expire_all()
    assert db.scalars(select(m.Participant.sms_opted_out_at)).all() == [None] * 3


def test_file_backend_writes_one_file_per_text(
    db: Session, make_app: Callable[..., Flask]
) -> None:
    app = make_app()
    enrol(db)
    assert run(app, db, OPENS).delivery.sent == 4
    files = sorted(Path(app.config["SMS_FILE_DIR"]).glob("*.txt"))
    assert len(files) == 2
    assert {p.read_text().splitlines()[0] for p in files} == {f"To: {SAM}", f"To: {ALEX}"}


def test_a_welsh_participant_gets_welsh_texts_and_a_welsh_opt_out_page(
    db: Session, make_app: Callable[..., Flask], notify: FakeNotify
) -> None:
    app = sms_app(make_app, notify)
    study = f.StudyFactory(code="pulse")
    f.TeamFactory(code="NORTH")
    f.WaveFactory(study=study, index=1, offset_days=0, window_days=21, reminder_offsets=[3])
    db.flush()
    enrolment.import_csv(db, study, (
        "external_id,email,name,role,team_code,anchor_date,mobile,channel,language\n"
        f"E1,,Sam,peer_worker,NORTH,{ANCHOR},07911 123456,,cy\n"
        f"E2,,Alex,colleague,NORTH,{ANCHOR},07700 123456,,\n"))
    db.commit()
    assert run(app, db, OPENS).delivery.sent == 2
    welsh, english = notify.to(SAM)[0].body, notify.to(ALEX)[0].body
    assert welsh.startswith("Arolwg PeerPulse ar agor tan ") and welsh.endswith(
        "Atebwch STOP i atal negeseuon")
    assert english.startswith("PeerPulse survey open until ") and english.endswith(
        "Reply STOP to stop texts")
    assert count_segments(welsh).encoding == "GSM-7"
    token = LINK.search(welsh)
    assert token is not None
    page = app.test_client().get(f"/r/{token.group(1)}/texts")
    assert '<html lang="cy"' in page.get_data(as_text=True)
    assert "Atal negeseuon testun" in page.get_data(as_text=True)


OPT_OUT = {"en": "Reply STOP to stop texts", "cy": "Atebwch STOP i atal negeseuon"}


@pytest.mark.parametrize("language", ["en", "cy"])
@pytest.mark.parametrize("base_url", ["https://peerpulse.example.org",
                                      "https://pulse.cwmtafmorgannwg.wales.nhs.uk"])
@pytest.mark.parametrize("kind", ["invite", "remind"])
def test_each_text_fits_one_segment(kind: str, base_url: str, language: str) -> None:
    # A real link token (24 random bytes: 32 characters) and every closing date of a year, so
    # that the longest weekday and month names of each language are among them.
    token = secrets.token_urlsafe(24)
    assert len(token) == 32
    first = dt.datetime(2026, 1, 1, 9, 0, tzinfo=dt.UTC)
    texts = [render_survey_sms(kind, survey_link=survey_url(base_url, token), closes_at=first + n * DAY,
                               zone=ZoneInfo("Europe/London"), language=language)
             for n in range(366)]
    longest = max(texts, key=len)
    count = count_segments(longest)
    print(f"{kind} in {language} via {base_url}: longest {count.units} characters "
          f"({count.encoding}), {count.segments} segment")
    for text in texts:
        count = count_segments(text)
        assert count.encoding == "GSM-7" and count.segments == 1 and count.units <= 160, text
        assert f"{base_url}/r/{token}" in text and text.endswith(OPT_OUT[language])


def test_segment_counting() -> None:
    assert count_segments("a" * 160).segments == 1
    assert count_segments("a" * 161).segments == 2  # 153 per part once concatenated
    assert count_segments("a" * 306).segments == 2 and count_segments("a" * 307).segments == 3
    assert count_segments("€" * 80).units == 160  # extension characters take two
    welsh = count_segments("Mae'r arolwg ar agor tan ddydd Sadwrn – ŵ")
    assert (welsh.encoding, welsh.per_segment) == ("UCS-2", 70)


def test_a_queued_text_is_cancelled_when_the_channel_becomes_email(
    db: Session, staged: Staged, make_app: Callable[..., Flask], notify: FakeNotify
) -> None:
    app = sms_app(make_app, notify)
    enrol(db)
    mail = MailSettings.from_config(app.config)
    invitations.materialise(db, OPENS - DAY)
    staged(invitations.open_due, mail, OPENS)
    alex = db.scalars(select(m.Contact).where(m.Contact.mobile == ALEX)).one()
    alex.channel = m.Channel.EMAIL
    db.commit()
    report = staged(outbox.deliver, mail, OPENS, sms_settings=SmsSettings.from_config(app.config))
    assert (report.sent, report.cancelled) == (3, 1)
    assert notify.to(ALEX) == [] and len(notify.to(SAM)) == 1


@pytest.mark.parametrize(("environ", "message"), [
    ({"SMS_BACKEND": "pigeon"}, "SMS_BACKEND='pigeon' is not a backend"),
    ({"SMS_BACKEND": "notify"}, "needs NOTIFY_API_KEY and NOTIFY_SMS_TEMPLATE_ID"),
    ({"SMS_BACKEND": "notify", "NOTIFY_API_KEY": "short", "NOTIFY_SMS_TEMPLATE_ID": "t"},
     "NOTIFY_API_KEY is not a GOV.UK Notify API key"),
])
def test_sms_settings_are_checked_at_start(environ: dict[str, str], message: str) -> None:
    config = {**Config(environ={"SECRET_KEY": "x", **environ}).as_dict()}
    with pytest.raises(ConfigError, match=re.escape(message)):
        finalise(config)
    defaults = Config(environ={}).as_dict()
    assert (defaults["SMS_BACKEND"], defaults["SMS_INBOUND_TOKEN"]) == ("file", "")
    assert str(defaults["SMS_FILE_DIR"]).endswith("instance/sms")
