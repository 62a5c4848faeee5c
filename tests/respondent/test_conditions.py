"""Conditional questions on the respondent pages, without JavaScript: the server decides."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

import instruments.loader
from survey import models as m
from tests import factories as f
from tests.instruments.builders import CONDITIONAL, THEMES, write_dir

from .conftest import PersonalLink, make_link, post_form, see_committed


@pytest.fixture
def conditional_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An instrument directory holding only the conditional 'mini' instrument."""
    directory = write_dir(tmp_path / "instruments", {"themes.yaml": THEMES, "mini.yaml": CONDITIONAL})
    monkeypatch.setattr(instruments.loader, "INSTRUMENT_DIR", directory)
    return directory


def mini_link(db: Session, role: m.Role = m.Role.PEER_WORKER) -> PersonalLink:
    """An open first-wave link of a participant whose study asks 'mini' (with conditions)."""
    study = f.StudyFactory(instruments=False)
    db.add(m.StudyInstrument(study=study, role=role, instrument_id="mini", instrument_version=1))
    person = f.ParticipantFactory(consented=True, study=study, role=role)
    return make_link(db, participant=person, wave=f.WaveFactory(study=study, index=1))


def post(client: FlaskClient, link: PersonalLink, number: int, data: dict[str, str]) -> str:
    """Post page `number` and return where it leads."""
    response = post_form(client, f"{link.url}/page/{number}", data)
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    return response.headers["Location"]


LIKERT_3 = {"s1": "3", "s2": "3", "s3": "3"}


def _response(db: Session, link: PersonalLink) -> m.Response:
    see_committed(db)
    return db.scalars(select(m.Response).where(m.Response.invitation_id == link.invitation.id)).one()


def test_hidden_pages_are_skipped_and_hidden_answers_discarded(
        conditional_dir: Path, db: Session, client: FlaskClient) -> None:
    link = mini_link(db)
    # Disagreeing with a1 hides the second scale's page: page 1 leads to page 3.
    assert post(client, link, 1, {"a1": "2", "a2": "3", "a3": "4"}).endswith("/page/3")
    assert client.get(f"{link.url}/page/2").headers["Location"].endswith("/page/3")
    assert post(client, link, 3, LIKERT_3).endswith("/page/4")
    page = client.get(f"{link.url}/page/4").get_data(as_text=True)
    # Same-page conditions: rendered (no JavaScript needed), marked for the reveal script.
    assert 'id="conditional-useful" data-show-if="{&#34;op&#34;:&#34;equals&#34;' in page
    assert 'id="conditional-long_hours"' in page and "conditional.js" in page
    assert f'href="/r/{link.token}/page/3">' in page  # "back" skips the hidden page
    # No supervision: the follow-up answer is discarded and its page skipped, so this is the end.
    where = post(client, link, 4, {"supervised": "0", "useful": "2", "hours": "40",
                                   "long_hours": "Travel"})
    assert where.endswith("/thanks")
    response = _response(db, link)
    answers = {a.item_id: a.stored for a in response.answers}
    assert "useful" not in answers and answers["long_hours"] == "Travel"
    assert response.items_not_asked == ["b1", "b2", "b3", "better", "useful"]
    scores = {s.scale: (s.score, s.items_answered) for s in response.scores}
    assert scores["second"] == (None, 0) and scores["first"] == (pytest.approx(7 / 3), 3)


def test_changing_an_earlier_answer_hides_its_dependants(
        conditional_dir: Path, db: Session, client: FlaskClient) -> None:
    link = mini_link(db, role=m.Role.PEER_WORKER)
    assert post(client, link, 1, {"a1": "5"}).endswith("/page/2")
    assert post(client, link, 2, {"b1": "4", "b2": "4", "b3": "4"}).endswith("/page/3")
    assert post(client, link, 3, LIKERT_3).endswith("/page/4")
    assert post(client, link, 4, {"supervised": "1", "useful": "2"}).endswith("/page/5")
    # Back on page 1, a1 changes: the second scale's answers go and its page is passed over.
    assert post(client, link, 1, {"a1": "1"}).endswith("/page/3")
    assert {a.item_id for a in _response(db, link).answers} == {"a1", "s1", "s2", "s3",
                                                                 "supervised", "useful"}
    # Page 4 changes too: no supervision any more, so the follow-up and page 5 are not asked.
    assert post(client, link, 3, LIKERT_3).endswith("/page/4")
    assert post(client, link, 4, {"supervised": "0", "useful": "2"}).endswith("/thanks")
    response = _response(db, link)
    assert {a.item_id for a in response.answers} == {"a1", "s1", "s2", "s3", "supervised"}
    assert "second" in {s.scale for s in response.scores}
    assert next(s for s in response.scores if s.scale == "second").score is None
    assert response.items_not_asked == ["b1", "b2", "b3", "better", "long_hours", "useful"]


def test_a_condition_on_the_role_leaves_the_question_out(
        conditional_dir: Path, db: Session, client: FlaskClient) -> None:
    link = mini_link(db, role=m.Role.COLLEAGUE)
    post(client, link, 1, {"a1": "1"})
    post(client, link, 3, LIKERT_3)
    page = client.get(f"{link.url}/page/4").get_data(as_text=True)
    assert 'id="conditional-useful"' in page
    assert "long_hours" not in page  # the role part is decided here: nothing to reveal
    assert post(client, link, 4, {"supervised": "1", "hours": "50", "long_hours": "x"}
                ).endswith("/page/5")
    assert "long_hours" not in {a.item_id for a in _response(db, link).answers}
    # Page 5 (shown: supervision is yes) is the last.
    assert post(client, link, 5, {"better": "More time"}).endswith("/thanks")
    assert "long_hours" in _response(db, link).items_not_asked
