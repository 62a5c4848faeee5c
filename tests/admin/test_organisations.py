"""Trusts and teams: the list with participant counts, adding trusts and teams, editing a team."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from survey import models as m
from survey.services import organisations
from survey.services.organisations import InputError
from tests import factories as f
from tests.admin.conftest import count, csrf_token, new_trust, new_user
from tests.conftest import StaffLogin


def events(db: Session, prefix: str) -> list[m.AuditEvent]:
    db.rollback()  # end the read snapshot
    return list(db.scalars(select(m.AuditEvent).where(m.AuditEvent.action.like(f"{prefix}%"))
                           .order_by(m.AuditEvent.id)))


def test_list_shows_teams_with_service_type_and_participant_counts(
    client: FlaskClient, db: Session, admin: m.User
) -> None:
    trust = new_trust(code="NRT", name="North Trust")
    crisis = f.TeamFactory(organisation=trust, code="NRT-CR", name="Crisis team", service_type="crisis")
    f.TeamFactory(organisation=trust, code="NRT-IN", name="Inpatient ward", service_type="")
    for _ in range(3):
        f.ParticipantFactory(team=crisis)
    db.commit()
    page = client.get("/admin/trusts").get_data(as_text=True)
    assert '<h2 id="trust-NRT">North Trust <span class="muted">(NRT)</span></h2>' in page
    assert re.search(r'<th scope="row">NRT-CR</th>\s*<td>Crisis team</td>\s*<td>crisis</td>\s*<td>3</td>', page)
    assert re.search(r'<th scope="row">NRT-IN</th>\s*<td>Inpatient ward</td>\s*<td>–</td>\s*<td>0</td>', page)


def test_add_a_trust_and_a_team(client: FlaskClient, db: Session, admin: m.User) -> None:
    response = client.post("/admin/trusts", data={"trust-code": "SHP", "trust-name": "Shire Partnership"},
                           follow_redirects=True)
    assert response.status_code == 200
    assert "Added the trust Shire Partnership (SHP)." in response.get_data(as_text=True)
    response = client.post("/admin/teams", data={"team-trust": "SHP", "team-code": "SHP-EIP",
                                                 "team-name": "Early intervention",
                                                 "team-service_type": "early intervention"},
                           follow_redirects=True)
    assert "Added the team Early intervention (SHP-EIP) to Shire Partnership." in response.get_data(as_text=True)
    db.rollback()
    team = db.scalars(select(m.Team)).one()
    assert (team.organisation.code, team.code, team.name, team.service_type) == (
        "SHP", "SHP-EIP", "Early intervention", "early intervention")
    recorded = events(db, "t")
    assert [(e.action, e.actor, e.target_type, e.target_id) for e in recorded] == [
        ("trust.create", admin.email, "trust", "SHP"), ("team.create", admin.email, "team", "SHP-EIP")]
    assert recorded[1].detail == {"trust": "SHP", "name": "Early intervention",
                                  "service_type": "early intervention"}


@pytest.mark.parametrize(("code", "message"), [
    ("X", "&#39;X&#39; is not a valid code: use 2–40 letters, digits or hyphens."),
    ("NO SPACES", "&#39;NO SPACES&#39; is not a valid code"),
    ("é-accent", "is not a valid code"),
    ("A" * 41, "is not a valid code"),
    ("", "Enter a code (use 2–40 letters, digits or hyphens)."),
    ("nrt", "There is already a trust with code &#39;nrt&#39;."),  # codes are unique whatever the case
])
def test_bad_or_taken_trust_code_is_refused(client: FlaskClient, db: Session, admin: m.User,
                                            code: str, message: str) -> None:
    new_trust(code="NRT")
    db.commit()
    response = client.post("/admin/trusts", data={"trust-code": code, "trust-name": "A trust"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in page
    assert 'aria-describedby="trust-code-error"' in page and 'id="trust-code-error"' in page
    assert count(db, m.Organisation) == 1
    assert events(db, "trust.") == []


def test_team_errors_write_nothing(client: FlaskClient, db: Session, admin: m.User) -> None:
    trust = new_trust(code="NRT", name="North Trust")
    f.TeamFactory(organisation=trust, code="NRT-CR", name="Crisis team")
    db.commit()
    form = {"team-trust": "NRT", "team-code": "NRT-CR", "team-name": "Crisis team", "team-service_type": ""}
    page = client.post("/admin/teams", data=form).get_data(as_text=True)
    assert "There is already a team with code &#39;NRT-CR&#39;." in page
    assert "North Trust already has a team called &#39;Crisis team&#39;." in page
    response = client.post("/admin/teams", data=form | {"team-code": "bad code!", "team-name": ""})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "&#39;bad code!&#39; is not a valid code" in page and "Enter the team&#39;s name." in page
    assert 'aria-describedby="team-name-error"' in page
    response = client.post("/admin/teams", data=form | {"team-trust": "NOPE", "team-code": "NEW"})
    assert response.status_code == 400 and "Not a valid choice" in response.get_data(as_text=True)
    assert count(db, m.Team) == 1
    assert events(db, "team.") == []


def test_edit_a_team(client: FlaskClient, db: Session, admin: m.User) -> None:
    trust = new_trust(name="North Trust")
    f.TeamFactory(organisation=trust, code="NRT-CR", name="Crisis team", service_type="crisis")
    f.TeamFactory(organisation=trust, code="NRT-IN", name="Inpatient ward")
    db.commit()
    page = client.get("/admin/teams/NRT-CR/edit").get_data(as_text=True)
    assert 'value="Crisis team"' in page and 'value="crisis"' in page
    clash = client.post("/admin/teams/NRT-CR/edit", data={"name": "Inpatient ward", "service_type": "x"})
    assert clash.status_code == 400
    assert "North Trust already has a team called &#39;Inpatient ward&#39;." in clash.get_data(as_text=True)
    too_long = client.post("/admin/teams/NRT-CR/edit", data={"name": "Crisis", "service_type": "x" * 81})
    assert "The service type is longer than 80 characters." in too_long.get_data(as_text=True)
    assert events(db, "team.") == []
    saved = client.post("/admin/teams/NRT-CR/edit",
                        data={"name": "Crisis resolution", "service_type": "crisis"}, follow_redirects=True)
    assert "Saved Crisis resolution (NRT-CR)." in saved.get_data(as_text=True)
    db.rollback()
    team = db.scalars(select(m.Team).where(m.Team.code == "NRT-CR")).one()
    assert (team.name, team.service_type) == ("Crisis resolution", "crisis")
    [event] = events(db, "team.update")
    assert event.detail == {"name": ["Crisis team", "Crisis resolution"]}
    assert client.get("/admin/teams/NOPE/edit").status_code == 404


def test_adding_a_trust_needs_the_csrf_token(make_app: Callable[..., Flask], db: Session) -> None:
    client = make_app(WTF_CSRF_ENABLED=True).test_client()
    user = new_user(admin=True)
    db.commit()
    StaffLogin(client).login(user.email)  # with the forms' CSRF tokens
    refused = client.post("/admin/trusts", data={"trust-code": "SHP", "trust-name": "Shire"})
    assert refused.status_code == 400
    assert "This form has expired" in refused.get_data(as_text=True)
    assert count(db, m.Organisation) == 0
    token = csrf_token(client, "/admin/trusts")
    added = client.post("/admin/trusts", data={"trust-code": "SHP", "trust-name": "Shire",
                                               "trust-csrf_token": token})
    assert added.status_code == 302
    assert count(db, m.Organisation) == 1


def test_services_serve_the_cli_too(db: Session) -> None:
    trust = organisations.create_organisation(db, None, " CLI-1 ", "Made by the CLI", actor="cli")
    organisations.create_team(db, None, trust, "CLI-1-T", "A team", actor="cli")
    with pytest.raises(InputError) as refused:
        organisations.create_team(db, None, trust, "cli-1-t", "A team")
    assert refused.value.by_field() == {
        "code": "There is already a team with code 'cli-1-t'.",
        "name": "Made by the CLI already has a team called 'A team'.",
    }
    db.commit()
    assert trust.code == "CLI-1"
    assert [e.actor for e in events(db, "t")] == ["cli", "cli"]


def test_every_problem_is_shown_at_once(client: FlaskClient, db: Session, admin: m.User) -> None:
    trust = new_trust(code="NRT")
    f.TeamFactory(organisation=trust, code="NRT-CR")
    db.commit()
    page = client.post("/admin/trusts", data={"trust-code": "NRT", "trust-name": ""}).get_data(as_text=True)
    assert 'id="trust-code-error"' in page and 'id="trust-name-error"' in page
    page = client.post("/admin/teams", data={"team-trust": "NRT", "team-code": "NRT-CR", "team-name": "",
                                             "team-service_type": "s" * 81}).get_data(as_text=True)
    assert all(f'id="team-{name}-error"' in page for name in ("code", "name", "service_type"))
    assert count(db, m.Team) == 1 and count(db, m.Organisation) == 1
