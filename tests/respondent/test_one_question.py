"""One question at a time, and larger text: chosen on any survey page, kept for the person."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

import instruments.loader
from survey import models as m
from tests import factories as f
from tests.instruments.builders import CONDITIONAL, THEMES, write_dir

from .conftest import PersonalLink, make_link, post_form, see_committed

# The conditional 'mini' at the first wave, page by page (the second page only after a1 4-5,
# 'useful' only after supervised 1, long_hours only over 37 hours, the last page only if
# supervised 1): 14 questions on 5 pages.
PAGES = [["a1", "a2", "a3"], ["b1", "b2", "b3"], ["s1", "s2", "s3"],
         ["supervised", "useful", "hours", "long_hours"], ["better"]]
QUESTIONS = [item for page in PAGES for item in page]


@pytest.fixture
def conditional_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An instrument directory holding only the conditional 'mini' instrument."""
    directory = write_dir(tmp_path / "instruments", {"themes.yaml": THEMES, "mini.yaml": CONDITIONAL})
    monkeypatch.setattr(instruments.loader, "INSTRUMENT_DIR", directory)
    return directory


@pytest.fixture
def mini(conditional_dir: Path, db: Session) -> PersonalLink:
    """An open first-wave link of a peer worker whose study asks the conditional 'mini'."""
    study = f.StudyFactory(instruments=False)
    db.add(m.StudyInstrument(study=study, role=m.Role.PEER_WORKER, instrument_id="mini",
                             instrument_version=1))
    person = f.ParticipantFactory(consented=True, study=study)
    return make_link(db, participant=person, wave=f.WaveFactory(study=study, index=1))


def choose(client: FlaskClient, link: PersonalLink, page: int | None = None,
           one_question: bool = True, larger_text: bool = False) -> str:
    """Post the display settings form (from page `page`); where it leads."""
    data = {"page": str(page)} if page is not None else {}
    if one_question:
        data["one_question"] = "y"
    if larger_text:
        data["larger_text"] = "y"
    response = post_form(client, f"{link.url}/display", data)
    assert response.status_code == 303, response.get_data(as_text=True)[:300]
    return str(response.headers["Location"])


def post(client: FlaskClient, link: PersonalLink, number: int, data: dict[str, str]) -> str:
    """Post page (or question) `number`; where it leads."""
    response = post_form(client, f"{link.url}/page/{number}", data)
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    return str(response.headers["Location"])


def questions_on(html: str) -> list[str]:
    """The names of the questions a page shows."""
    return re.findall(r'<(?:fieldset class="likert[^"]*"|div class="question[^"]*") id="([a-z0-9_]+)"', html)


def _response(db: Session, link: PersonalLink) -> m.Response:
    see_committed(db)
    return db.scalars(select(m.Response).where(m.Response.invitation_id == link.invitation.id)).one()


def test_the_choice_is_stored_with_the_participant_not_in_a_cookie(
        app: Flask, db: Session, link: PersonalLink) -> None:
    first = app.test_client()
    assert choose(first, link, one_question=True, larger_text=True).endswith(link.url)
    see_committed(db)
    person = db.get(m.Participant, link.invitation.participant_id)
    assert person is not None and (person.one_question, person.larger_text) == (True, True)
    other = app.test_client()  # another browser: no cookie of the first
    html = other.get(f"{link.url}/page/1").get_data(as_text=True)
    assert '<body class="text-larger">' in html
    assert "Question 1 of" in html
    assert re.search(r'id="display-one-question" name="one_question" value="y" checked', html)
    for path in ("/withdraw", "/texts", "/support"):  # larger text on every page of the link
        assert '<body class="text-larger">' in other.get(link.url + path).get_data(as_text=True)
    choose(other, link, one_question=False, larger_text=False)
    html = other.get(f"{link.url}/page/1").get_data(as_text=True)
    assert "<body>" in html and "Page 1 of" in html


def test_each_question_is_a_step_saved_on_its_own(
        mini: PersonalLink, db: Session, client: FlaskClient) -> None:
    assert choose(client, mini, page=1).endswith("/page/1")
    html = client.get(f"{mini.url}/page/1").get_data(as_text=True)
    assert questions_on(html) == ["a1"]
    assert '<progress id="progress" max="14" value="1">' in html
    assert "Question 1 of 14" in html and "Back to" not in html
    assert post(client, mini, 1, {"a1": "5"}).endswith("/page/2")
    assert {a.item_id: a.stored for a in _response(db, mini).answers} == {"a1": 5}
    second = client.get(f"{mini.url}/page/2").get_data(as_text=True)
    assert questions_on(second) == ["a2"] and "Question 2 of 14" in second
    assert f'href="{mini.url}/page/1">Back to question 1<' in second
    # Back: the saved answer is shown again, and can be changed.
    assert 'value="5" checked' in client.get(f"{mini.url}/page/1").get_data(as_text=True)
    assert post(client, mini, 1, {"a1": "4"}).endswith("/page/2")
    assert {a.item_id: a.stored for a in _response(db, mini).answers} == {"a1": 4}
    # Resume: the link leads to the first question not saved yet.
    assert client.get(mini.url).headers["Location"].endswith("/page/2")
    # Questions not reached yet are not reachable.
    assert client.get(f"{mini.url}/page/9").headers["Location"].endswith("/page/2")


def test_a_whole_survey_one_question_at_a_time_with_conditions(
        mini: PersonalLink, db: Session, client: FlaskClient) -> None:
    choose(client, mini)
    # a1 disagreed with: the second page's three questions are skipped (steps 4-6).
    assert post(client, mini, 1, {"a1": "2"}).endswith("/page/2")
    assert post(client, mini, 2, {"a2": "3"}).endswith("/page/3")
    assert post(client, mini, 3, {}).endswith("/page/7")  # skipped a3; b1-b3 not asked
    assert client.get(f"{mini.url}/page/4").headers["Location"].endswith("/page/7")
    for number in (7, 8, 9):
        assert post(client, mini, number, {QUESTIONS[number - 1]: "3"}).endswith(f"/page/{number + 1}")
    # Supervised yes: its follow-up (a same-page condition in page mode) is the next step.
    assert post(client, mini, 10, {"supervised": "1"}).endswith("/page/11")
    useful = client.get(f"{mini.url}/page/11").get_data(as_text=True)
    assert questions_on(useful) == ["useful"] and "data-show-if" not in useful
    assert f'href="{mini.url}/page/10">Back to question 10<' in useful
    assert post(client, mini, 11, {"useful": "2"}).endswith("/page/12")
    # 30 hours: long_hours is not asked; the last page's question is.
    assert post(client, mini, 12, {"hours": "30"}).endswith("/page/14")
    assert f'href="{mini.url}/page/12">' in client.get(f"{mini.url}/page/14").get_data(as_text=True)
    assert post(client, mini, 14, {"better": "More time"}).endswith("/thanks")
    response = _response(db, mini)
    assert response.submitted_at is not None
    assert {a.item_id: a.stored for a in response.answers} == {
        "a1": 2, "a2": 3, "s1": 3, "s2": 3, "s3": 3, "supervised": 1, "useful": 2,
        "hours": 30.0, "better": "More time"}
    assert response.items_not_asked == ["b1", "b2", "b3", "long_hours"]
    assert {s.scale for s in response.scores} >= {"first", "start"}


def test_switching_mode_keeps_the_place_and_every_saved_answer(
        mini: PersonalLink, db: Session, client: FlaskClient) -> None:
    # Page 1 saved as a page, then one question at a time from page 2: its first question.
    assert post(client, mini, 1, {"a1": "5", "a2": "4", "a3": "3"}).endswith("/page/2")
    assert choose(client, mini, page=2).endswith("/page/4")
    assert client.get(mini.url).headers["Location"].endswith("/page/4")
    assert post(client, mini, 4, {"b1": "4"}).endswith("/page/5")
    # Back to pages from question 5 (b2): page 2, with b1 filled in; page 1 counts as saved.
    assert choose(client, mini, page=5, one_question=False).endswith("/page/2")
    page = client.get(f"{mini.url}/page/2").get_data(as_text=True)
    assert questions_on(page) == ["b1", "b2", "b3"] and "Page 2 of 5" in page
    assert re.search(r'name="b1" type="radio" value="4" checked', page)
    assert client.get(mini.url).headers["Location"].endswith("/page/2")
    # Questions saved one by one make their page saved: b2 and b3 as steps, then pages on.
    choose(client, mini, page=2)
    assert post(client, mini, 5, {"b2": "4"}).endswith("/page/6")
    assert post(client, mini, 6, {"b3": "4"}).endswith("/page/7")
    choose(client, mini, page=7, one_question=False)
    assert client.get(mini.url).headers["Location"].endswith("/page/3")
    answers = {a.item_id: a.stored for a in _response(db, mini).answers}
    assert answers == {"a1": 5, "a2": 4, "a3": 3, "b1": 4, "b2": 4, "b3": 4}


def test_the_language_switch_keeps_a_typed_answer_in_one_question_mode(
        mini: PersonalLink, client: FlaskClient) -> None:
    choose(client, mini)
    response = post_form(client, f"{mini.url}/page/1", {"a1": "4", "switch_language": "cy"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<html lang="cy">' in html and "Cwestiwn 1 o 14" in html
    assert re.search(r'name="a1" type="radio" value="4" checked', html)
    assert questions_on(html) == ["a1"]


def test_the_settings_form_refuses_tampering_and_unknown_links(
        client: FlaskClient, link: PersonalLink) -> None:
    assert post_form(client, f"{link.url}/display", {"one_question": "y", "other": "1"}
                     ).status_code == 400
    assert post_form(client, "/r/" + "x" * 43 + "/display", {"one_question": "y"}).status_code == 404
    assert client.get(f"{link.url}/display").status_code == 405
    # A page number out of range is no error: the person goes back to their link.
    assert choose(client, link, page=999).endswith(link.url)


def test_every_survey_page_has_the_settings_form(db: Session, client: FlaskClient) -> None:
    link = make_link(db)
    html = client.get(f"{link.url}/page/1").get_data(as_text=True)
    form = html[html.index('class="display-settings"'):]
    assert f'action="{link.url}/display"' in form
    assert 'name="page" value="1"' in form
    assert html.index('class="display-settings"') < html.index('id="page-form"')
