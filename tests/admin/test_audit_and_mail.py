"""The audit log page (newest first, 50 a page, filter by action) and the read-only mail page."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from survey import models as m
from tests.admin.conftest import SignIn, new_user
from tests.conftest import StaffLogin

UTC = dt.UTC


def add_event(db: Session, action: str, at: dt.datetime, **fields: object) -> None:
    db.add(m.AuditEvent(action=action, at=at, actor=str(fields.pop("actor", "system")), **fields))


def test_audit_log_newest_first_paginated_and_filtered(client: FlaskClient, db: Session,
                                                       admin: m.User) -> None:
    start = dt.datetime(2020, 3, 1, 8, 0, tzinfo=UTC)  # before the sign-in
    for n in range(205):
        add_event(db, "export" if n % 2 else "study.pause", start + dt.timedelta(minutes=n),
                  target_type="study", target_id=f"s{n}", detail={"rows": n})
    db.commit()
    page = client.get("/admin/audit").get_data(as_text=True)
    whens = re.findall(r'<th scope="row"><time datetime="([^"]+)">', page)
    assert len(whens) == 50
    # The sign-in of the admin is the newest event (now); then the added ones, newest first.
    assert whens[1:4] == ["2020-03-01T11:24:00+00:00", "2020-03-01T11:23:00+00:00",
                          "2020-03-01T11:22:00+00:00"]
    assert "206 event(s)" in page and "Showing 1 to 50 of 206 audit events" in page
    assert '<a href="/admin/audit?page=1" aria-current="page"' in page
    assert 'href="/admin/audit?page=2" rel="next"' in page and 'rel="prev"' not in page
    assert '<option value="export">export</option>' in page and '<option value="login">login</option>' in page
    # Every event once across the pages, in order; the last page holds the remainder.
    seen = []
    for number in range(1, 6):
        seen += re.findall(r'<th scope="row"><time datetime="([^"]+)">',
                           client.get(f"/admin/audit?page={number}").get_data(as_text=True))
    assert len(seen) == len(set(seen)) == 206 and seen == sorted(seen, reverse=True)
    last = client.get("/admin/audit?page=5").get_data(as_text=True)
    assert "Showing 201 to 206 of 206" in last and 'rel="next"' not in last
    assert "2020-03-01T08:00:00+00:00" in last
    # A page past the end, or not a number, shows a real page rather than an error.
    assert "Showing 201 to 206" in client.get("/admin/audit?page=99").get_data(as_text=True)
    assert "Showing 1 to 50" in client.get("/admin/audit?page=x").get_data(as_text=True)
    page = client.get("/admin/audit?action=export").get_data(as_text=True)
    rows = re.findall(r"<td>(export|study\.pause|login)</td>", page)
    assert rows and set(rows) == {"export"} and len(rows) == 50
    assert "Showing 1 to 50 of 102 audit events" in page
    assert 'href="/admin/audit?page=2&amp;action=export" rel="next"' in page  # the filter is kept
    assert '<option selected value="export">export</option>' in page
    assert "<td>study s203</td>" in page and "<dt>rows</dt><dd>203</dd>" in page
    third = client.get("/admin/audit?action=export&page=3").get_data(as_text=True)
    assert len(re.findall(r"<td>export</td>", third)) == 2


def test_audit_detail_and_staff_targets_are_readable(client: FlaskClient, db: Session,
                                                     admin: m.User) -> None:
    other = new_user(email="other@example.org")
    db.flush()
    add_event(db, "user.update", dt.datetime(2026, 3, 1, 9, 30, 15, tzinfo=UTC), actor=admin.email,
              user_id=admin.id, target_type="user", target_id=str(other.id),
              detail={"role": ["researcher", "trust_monitor"], "trust": [None, "NRT"]})
    db.commit()
    page = client.get("/admin/audit?action=user.update").get_data(as_text=True)
    assert '<time datetime="2026-03-01T09:30:15+00:00">2026-03-01T09:30:15+00:00</time>' in page
    assert f"<td>{admin.email}</td>" in page
    assert f"<td>user {other.id} (other@example.org)</td>" in page
    assert "<dt>role</dt><dd>[&#34;researcher&#34;, &#34;trust_monitor&#34;]</dd>" in page
    assert "<dt>trust</dt><dd>[null, &#34;NRT&#34;]</dd>" in page
    assert "No events with this action." in client.get("/admin/audit?action=nothing").get_data(as_text=True)


def test_mail_page_never_shows_the_smtp_password(make_app: Callable[..., Flask], db: Session) -> None:
    app = make_app(MAIL_BACKEND="smtp", SMTP_HOST="smtp.trust.nhs.uk", SMTP_PORT=587,
                   SMTP_STARTTLS=True, SMTP_USER="peerpulse-mailer",
                   SMTP_PASSWORD="hunter2-very-secret", MAIL_FROM="Study <study@trust.nhs.uk>")
    client = app.test_client()
    user = new_user(admin=True)
    db.add_all([m.OutboxMessage(dedupe_key=f"k{n}", kind="invite", recipient=f"p{n}@example.org",
                                subject="s", body_text="b", status=status)
                for n, status in enumerate([m.OutboxStatus.PENDING, m.OutboxStatus.PENDING,
                                            m.OutboxStatus.FAILED])])
    db.commit()
    StaffLogin(client).login(user.email)
    page = client.get("/admin/mail").get_data(as_text=True)
    assert "hunter2-very-secret" not in page and "peerpulse-mailer" not in page
    for label, value in [("Backend", "smtp"), ("SMTP host", "smtp.trust.nhs.uk"), ("SMTP port", "587"),
                         ("Encryption (STARTTLS or SSL)", "STARTTLS"), ("SMTP user set", "yes"),
                         ("From address", "Study &lt;study@trust.nhs.uk&gt;")]:
        assert f'<tr><th scope="row">{label}</th><td>{value}</td></tr>' in page
    assert '<tr><th scope="row">pending</th><td>2</td></tr>' in page
    assert '<tr><th scope="row">failed</th><td>1</td></tr>' in page
    assert 'href="/admin/outbox"' in page


def test_mail_page_with_the_file_backend(client: FlaskClient, sign_in: SignIn) -> None:
    sign_in(admin=True)
    page = client.get("/admin/mail").get_data(as_text=True)
    assert '<tr><th scope="row">Backend</th><td>file</td></tr>' in page
    assert '<tr><th scope="row">SMTP user set</th><td>no</td></tr>' in page
    assert "emails are written there as files, not sent" in page
