"""Enrolment with mobile numbers and channels: CSV, the admin form, and what is refused."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from survey import models as m
from survey.messaging.reach import delivery_channels, parse_mobile
from survey.services import enrolment
from survey.services.errors import InputError
from tests import factories as f
from tests.conftest import StaffLogin

HEADER = "external_id,email,name,role,team_code,anchor_date,mobile,channel\n"


@pytest.fixture
def study(db: Session) -> m.Study:
    s = f.StudyFactory(code="pulse")
    f.TeamFactory(code="NORTH")
    db.commit()
    return s


def test_a_bad_mobile_or_channel_rejects_the_whole_file_by_line_and_column(
    db: Session, study: m.Study
) -> None:
    bad = (HEADER
           + "E1,sam@example.nhs.uk,Sam,peer_worker,NORTH,2026-01-05,07911 123456,both\n"
           + "E2,alex@example.nhs.uk,Alex,colleague,NORTH,2026-01-05,0791112,\n"
           + "E3,,Jo,manager,NORTH,2026-01-05,020 7946 0000,\n"
           + "E4,kim@example.nhs.uk,Kim,manager,NORTH,2026-01-05,,pigeon\n"
           + "E5,lee@example.nhs.uk,Lee,manager,NORTH,2026-01-05,,sms\n"
           + "E6,,Ash,manager,NORTH,2026-01-05,,\n"
           + "E7,,Ray,manager,NORTH,2026-01-05,+44 7911 123456,sms\n")
    with pytest.raises(InputError) as caught:
        enrolment.import_csv(db, study, bad)
    assert [str(p) for p in caught.value.problems] == [
        "line 3, column mobile: '0791112' is not a valid mobile number; write a UK mobile as "
        "07xxx xxxxxx or any number with its country code, e.g. +44 7xxx xxxxxx",
        "line 4, column mobile: '020 7946 0000' is not a valid mobile number; write a UK mobile "
        "as 07xxx xxxxxx or any number with its country code, e.g. +44 7xxx xxxxxx",
        "line 5, column channel: 'pigeon' is not a channel; use one of email, sms, both "
        "(or leave it empty)",
        "line 6, column channel: is 'sms' but there is no mobile number",
        "line 7, column email: is empty and so is mobile; give an email address, a mobile "
        "number or both",
        "line 8, column mobile: '+447911123456' is also on line 2",
    ]
    assert db.scalar(select(func.count(m.Participant.id))) == 0
    assert db.scalar(select(func.count(m.Contact.participant_id))) == 0


def test_mobile_and_channel_are_stored_and_updated(db: Session, study: m.Study) -> None:
    enrolment.import_csv(db, study, HEADER
                         + "E1,,Sam,peer_worker,NORTH,2026-01-05,07911123456,\n"
                         + "E2,alex@example.nhs.uk,Alex,colleague,NORTH,2026-01-05,,\n")
    # The six required columns alone still work, and the optional ones may come in any order.
    again = enrolment.import_csv(
        db, study, "channel,external_id,email,name,role,team_code,anchor_date,mobile\n"
        "both,E2,alex@example.nhs.uk,Alex,colleague,NORTH,2026-01-05,+33 6 12 34 56 78\n")
    assert (again.updated, again.created) == (1, 0)
    contacts = {c.external_id: c for c in db.scalars(select(m.Contact))}
    assert (contacts["E1"].mobile, contacts["E1"].channel) == ("+447911123456", m.Channel.SMS)
    assert (contacts["E2"].mobile, contacts["E2"].channel) == ("+33612345678", m.Channel.BOTH)
    clash = HEADER + "E9,,Ray,manager,NORTH,2026-01-05,07911 123456,\n"
    with pytest.raises(InputError) as caught:
        enrolment.import_csv(db, study, clash)
    assert str(caught.value) == ("line 2, column mobile: '+447911123456' already belongs to the "
                                 "participant with external_id 'E1'")


def test_parse_mobile_and_the_channel_rule() -> None:
    assert parse_mobile("07911 123456") == "+447911123456"
    assert parse_mobile("+44 (0)7911 123456") == "+447911123456"
    assert parse_mobile("020 7946 0000") is None  # a landline cannot take texts
    assert parse_mobile("not a number") is None
    email, mobile = "a@example.org", "+447911123456"
    assert delivery_channels(email, None, m.Channel.EMAIL, False) == ("email",)
    assert delivery_channels(None, mobile, m.Channel.SMS, False) == ("sms",)
    assert delivery_channels(email, mobile, m.Channel.BOTH, False) == ("email", "sms")
    assert delivery_channels(email, mobile, m.Channel.SMS, False) == ("sms",)
    # After STOP: email still goes to whoever has an address; SMS-only people get nothing.
    assert delivery_channels(email, mobile, m.Channel.SMS, True) == ("email",)
    assert delivery_channels(email, mobile, m.Channel.BOTH, True) == ("email",)
    assert delivery_channels(None, mobile, m.Channel.SMS, True) == ()


def test_admin_form_adds_and_edits_a_mobile(
    client: FlaskClient, db: Session, auth: StaffLogin, study: m.Study
) -> None:
    user = f.UserFactory()
    db.commit()
    assert auth.login(user.email).status_code == 302
    form = {"external_id": "E9", "email": "", "name": "Kim", "role": "manager",
            "team_code": "NORTH", "anchor_date": "2026-02-02", "mobile": "07911 12", "channel": ""}
    bad = client.post("/admin/studies/pulse/participants/new", data=form)
    assert bad.status_code == 400 and "is not a valid mobile number" in bad.get_data(as_text=True)
    ok = client.post("/admin/studies/pulse/participants/new", data=form | {"mobile": "07911 123456"})
    assert ok.status_code == 302
    kim = db.scalars(select(m.Participant)).one()
    assert kim.contact is not None
    assert (kim.contact.mobile, kim.contact.email, kim.contact.channel) == (
        "+447911123456", None, m.Channel.SMS)
    edit_url = f"/admin/studies/pulse/participants/{kim.code}/edit"
    page = client.get(edit_url).get_data(as_text=True)
    assert 'value="+447911123456"' in page and 'type="tel"' in page
    both = client.post(edit_url, data=form | {"mobile": "+447911123456", "channel": "both",
                                              "email": "kim@example.nhs.uk"})
    assert both.status_code == 302
    db.rollback()
    kim = db.scalars(select(m.Participant)).one()
    assert kim.contact is not None
    assert (kim.contact.email, kim.contact.channel) == ("kim@example.nhs.uk", m.Channel.BOTH)
    # Texts stopped and no email: the list says this person is sent nothing.
    client.post(edit_url, data=form | {"mobile": "+447911123456", "channel": "sms"})
    db.rollback()
    kim = db.scalars(select(m.Participant)).one()
    kim.sms_opted_out_at = kim.created_at
    db.commit()
    listing = client.get("/admin/studies/pulse/participants").get_data(as_text=True)
    assert "texts stopped, no email: sent nothing" in listing
    assert "+447911123456" not in listing
