"""The support page: linked from every respondent page and beside sensitive questions."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

import instruments.loader
from survey import models as m
from survey.services.demo import DEMO_SUPPORT
from tests import factories as f
from tests.instruments.builders import CONDITIONAL, THEMES, mutate, write_dir

from .conftest import PersonalLink, make_link, post_form, see_committed

UNKNOWN = "/r/" + "x" * 43


def _with_support(db: Session, link: PersonalLink) -> None:
    link.invitation.participant.study.support = [dict(c) for c in DEMO_SUPPORT]
    db.commit()


def test_every_respondent_page_links_to_support(db: Session, client: FlaskClient) -> None:
    fresh = make_link(db, participant=f.ParticipantFactory(consented=False))
    link = make_link(db)
    pages = [f"{fresh.url}/consent", f"{link.url}/page/1", f"{link.url}/withdraw",
             f"{link.url}/texts", f"{link.url}/support"]
    for path in pages:
        html = client.get(path).get_data(as_text=True)
        token = path.split("/")[2]
        assert f'href="/r/{token}/support"' in html, path
    # A survey page also links to it near the top, before the first question.
    page = client.get(f"{link.url}/page/1").get_data(as_text=True)
    assert page.index(f'href="{link.url}/support"') < page.index("<fieldset class=\"likert")


def test_the_study_support_page_in_english_and_welsh(db: Session, client: FlaskClient,
                                                     link: PersonalLink) -> None:
    _with_support(db, link)
    html = client.get(f"{link.url}/support").get_data(as_text=True)
    assert "Staff wellbeing service of your trust" in html
    assert '<a href="tel:116123">116 123</a>' in html
    assert 'href="https://www.samaritans.org"' in html
    link.invitation.participant.language = "cy"
    db.commit()
    welsh = client.get(f"{link.url}/support").get_data(as_text=True)
    assert '<html lang="cy">' in welsh
    assert "Gwasanaeth llesiant staff eich ymddiriedolaeth" in welsh
    assert "Llinell Gymraeg y Samariaid" in welsh and "Cymorth os oes ei angen arnoch" in welsh


def test_a_study_without_contacts_shows_samaritans(client: FlaskClient, link: PersonalLink) -> None:
    response = client.get(f"{link.url}/support")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Samaritans" in html and 'href="tel:116123"' in html


@pytest.mark.parametrize("state", ["expired", "completed", "withdrawn", "declined", "closed-window"])
def test_support_works_for_any_link_of_the_study_and_writes_nothing(
        db: Session, client: FlaskClient, link: PersonalLink, state: str) -> None:
    _with_support(db, link)
    invitation, person = link.invitation, link.invitation.participant
    if state == "expired":
        invitation.status = m.InvitationStatus.EXPIRED
    elif state == "completed":
        invitation.status = m.InvitationStatus.COMPLETED
    elif state == "withdrawn":
        person.status = m.ParticipantStatus.WITHDRAWN
    elif state == "declined":
        person.consent_decision = m.ConsentDecision.DECLINED
    else:
        invitation.closes_at = invitation.opens_at
    db.commit()
    before = (invitation.status, person.status)
    response = client.get(f"{link.url}/support")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Staff wellbeing service of your trust" in html
    # Nothing about the person: no name, wave, scores or study code.
    assert person.code not in html and person.study.code not in html
    see_committed(db)
    assert (invitation.status, person.status) == before
    assert db.scalar(select(func.count(m.Response.id))
                     .where(m.Response.invitation_id == invitation.id)) == 0


def test_an_unknown_link_still_shows_where_to_get_support(client: FlaskClient) -> None:
    response = client.get(f"{UNKNOWN}/support")
    assert response.status_code == 404  # counted as a guess, like every other page
    html = response.get_data(as_text=True)
    assert "116 123" in html
    assert "/withdraw" not in html and "/texts" not in html  # no pages of a link that is not


SENSITIVE = mutate(CONDITIONAL, "    page: about_you\n    show_if: {item: supervised, equals: 1}\n",
                   "    page: about_you\n    show_if: {item: supervised, equals: 1}\n"
                   "    sensitive: true\n")


@pytest.fixture
def sensitive_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Instruments: the conditional 'mini', with its follow-up question marked sensitive."""
    directory = write_dir(tmp_path / "instruments", {"themes.yaml": THEMES, "mini.yaml": SENSITIVE})
    monkeypatch.setattr(instruments.loader, "INSTRUMENT_DIR", directory)
    return directory


def mini_link(db: Session) -> PersonalLink:
    """An open first-wave link of a peer worker whose study asks 'mini'."""
    study = f.StudyFactory(instruments=False)
    db.add(m.StudyInstrument(study=study, role=m.Role.PEER_WORKER, instrument_id="mini",
                             instrument_version=1))
    person = f.ParticipantFactory(consented=True, study=study)
    return make_link(db, participant=person, wave=f.WaveFactory(study=study, index=1))


def test_a_sensitive_question_has_the_support_link_beside_it(
        sensitive_dir: Path, db: Session, client: FlaskClient) -> None:
    link = mini_link(db)
    for number, answers in ((1, {"a1": "5"}), (2, {}), (3, {})):
        assert post_form(client, f"{link.url}/page/{number}", answers).status_code == 303
    html = client.get(f"{link.url}/page/4").get_data(as_text=True)
    beside = re.findall(r'<p class="support-beside"><a href="([^"]+)">', html)
    assert beside == [f"{link.url}/support"]  # once: only 'useful' is marked
    # Right after the question, inside its conditional block (hidden and shown with it).
    block = html[html.index('id="conditional-useful"'):]
    assert block.index('class="support-beside"') < block.index("</div>")
    assert block.index('id="useful"') < block.index('class="support-beside"')
    first = client.get(f"{link.url}/page/1").get_data(as_text=True)
    assert 'class="support-beside"' not in first
