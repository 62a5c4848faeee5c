"""Completing a response: scale scores written once, thanks shown, nothing ever duplicated."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from instruments import load_instrument
from survey import models as m
from survey.services import responses
from tests import factories as f
from tests.respondent.conftest import PersonalLink, make_link, post_form, stored_answers

PEER = load_instrument("peer_worker", 1)


def answer_everything(client: FlaskClient, link: PersonalLink, value_for: Any) -> dict[str, str]:
    """Answer every page through the web; returns what was posted."""
    posted: dict[str, str] = {}
    pages = PEER.pages(first_wave=link.invitation.wave.is_baseline)
    for number, page in enumerate(pages, start=1):
        data = {item.id: value_for(item) for item in page.items if value_for(item) is not None}
        posted.update(data)
        response = post_form(client, f"{link.url}/page/{number}", data)
        assert response.status_code == 303
    assert response.headers["Location"].endswith(f"{link.url}/thanks")
    return posted


def _value(item: Any) -> str | None:
    """A varied answer pattern: some skipped, some "does not apply"."""
    n = int(item.id.rsplit("_", 1)[1])
    return {1: "5", 2: "4", 3: "na", 4: "2", 5: None}.get(n, "3")


def counts(db: Session) -> tuple[int, int, int]:
    """Responses, answers and scale scores in the database."""
    return tuple(  # type: ignore[return-value]
        db.scalar(select(func.count()).select_from(model)) for model in (m.Response, m.Answer, m.ScaleScore)
    )


def test_finishing_writes_answers_and_scores(db: Session, client: FlaskClient, link: PersonalLink) -> None:
    posted = answer_everything(client, link, _value)
    expected_answers = {k: None if v == "na" else int(v) for k, v in posted.items()}
    assert stored_answers(db, link.invitation) == expected_answers
    stored = {s.scale: (s.score, s.items_answered) for s in db.scalars(select(m.ScaleScore))}
    # By hand from peer_worker_v1.yaml: item n of every scale is answered 5, 4, n/a, 2, skipped,
    # then 3 (n >= 6); reverse-keyed items score 6 - answer; a score needs >= 60% answered.
    assert stored == {
        # pw_id_1..6 (4, 5 reversed): 5, 4, n/a, 2 -> 4, skipped, 3; 4 of 6 answered
        "identity": (pytest.approx((5 + 4 + 4 + 3) / 4), 4),
        # pw_su_1..6 (5, 6 reversed): 5, 4, n/a, 2, skipped, 3 -> 3; 4 of 6
        "support": (pytest.approx((5 + 4 + 2 + 3) / 4), 4),
        # pw_eq_1..7 (6, 7 reversed): 5, 4, n/a, 2, skipped, 3 -> 3, 3 -> 3; 5 of 7
        "equality": (pytest.approx((5 + 4 + 2 + 3 + 3) / 5), 5),
        # pw_em_1..6 (5, 6 reversed): 5, 4, n/a, 2, skipped, 3 -> 3; 4 of 6
        "empowerment": (pytest.approx((5 + 4 + 2 + 3) / 4), 4),
        # pw_rc_1..5 (4, 5 reversed): 5, 4, n/a, 2 -> 4, skipped; 3 of 5 is exactly 60%
        "role_clarity": (pytest.approx((5 + 4 + 4) / 3), 3),
        # pw_pp_1..5 (4 reversed): 5, 4, n/a, 2 -> 4, skipped; 3 of 5
        "peer_practice": (pytest.approx((5 + 4 + 4) / 3), 3),
        # pw_st_1..4 (4 reversed), asked at baseline only: 5, 4, n/a, 2 -> 4; 3 of 4
        "starting_out": (pytest.approx((5 + 4 + 4) / 3), 3),
    }
    invitation = db.get(m.Invitation, link.invitation.id)
    assert invitation is not None and invitation.status == m.InvitationStatus.COMPLETED
    assert invitation.completed_at is not None
    assert db.scalars(select(m.Response)).one().submitted_at is not None


def test_reloading_or_resubmitting_after_completion_creates_nothing(
    db: Session, client: FlaskClient, link: PersonalLink
) -> None:
    answer_everything(client, link, _value)
    before = counts(db)
    for number in (1, 7):
        again = post_form(client, f"{link.url}/page/{number}", {"pw_id_1": "1", "pw_st_1": "1"})
        assert again.status_code == 303 and again.headers["Location"].endswith("/thanks")
    assert client.get(link.url).headers["Location"].endswith("/thanks")
    assert client.get(f"{link.url}/page/3").headers["Location"].endswith("/thanks")
    thanks = client.get(f"{link.url}/thanks")
    assert thanks.status_code == 200 and "Thank you" in thanks.get_data(as_text=True)
    assert counts(db) == before
    assert stored_answers(db, link.invitation)["pw_id_1"] == 5


def test_a_second_completion_is_a_no_op(db: Session, link: PersonalLink) -> None:
    response = responses.start_or_resume(db, link.invitation)
    plan = responses.questionnaire(link.invitation, response)
    for number in range(1, plan.total + 1):
        assert responses.save_page(db, response, plan, number, {})
    assert responses.complete(db, response, plan) is True
    db.commit()
    assert responses.complete(db, response, plan) is False
    assert responses.save_page(db, response, plan, 1, {"pw_id_1": 3}) is False
    db.commit()
    assert counts(db) == (1, 0, len(PEER.scales))
    # Every scale was asked but nothing answered: scores are missing, not zero.
    assert set(db.scalars(select(m.ScaleScore.score))) == {None}


def test_later_waves_write_no_score_for_scales_they_did_not_ask(db: Session, client: FlaskClient) -> None:
    person = f.ParticipantFactory(consented=True)
    later = make_link(db, participant=person, wave=f.WaveFactory(study=person.study, index=2))
    answer_everything(client, later, lambda item: "4")
    assert "starting_out" not in set(db.scalars(select(m.ScaleScore.scale)))
    assert len(db.scalars(select(m.ScaleScore)).all()) == len(PEER.scales) - 1


def test_thanks_shows_own_scores_across_waves(db: Session, client: FlaskClient) -> None:
    person = f.ParticipantFactory(consented=True)
    first = make_link(db, participant=person, wave=f.WaveFactory(study=person.study, index=1, label="Baseline"))
    answer_everything(client, first, lambda item: "2")
    second = make_link(db, participant=person,
                       wave=f.WaveFactory(study=person.study, index=2, label="Three months"))
    answer_everything(client, second, lambda item: "4")
    html = client.get(f"{second.url}/thanks").get_data(as_text=True)
    assert "Your scores over time" in html
    assert '<svg class="score-chart"' in html and 'role="img"' in html
    assert "<th scope=\"col\">Baseline</th>" in html and "<th scope=\"col\">Three months</th>" in html
    # Baseline identity by hand: six answers of 2, pw_id_4 and pw_id_5 reverse-keyed (6 - 2 = 4):
    # (2 + 2 + 2 + 4 + 4 + 2) / 6 = 16 / 6 = 2.67, shown as 2.7.
    assert "<td>2.7</td>" in html
    assert html.count('class="chart-point-latest"') == len(PEER.scales) - 1  # starting_out only at baseline
    assert "style=" not in html and "<script" not in html


def test_own_scores_are_hidden_when_the_study_says_so(db: Session, client: FlaskClient) -> None:
    person = f.ParticipantFactory(consented=True, study=f.StudyFactory(show_own_scores=False))
    link = make_link(db, participant=person)
    answer_everything(client, link, lambda item: "3")
    html = client.get(f"{link.url}/thanks").get_data(as_text=True)
    assert "Thank you" in html
    assert "Your scores" not in html and "<svg" not in html


def test_thanks_is_only_for_completed_links(client: FlaskClient, link: PersonalLink) -> None:
    assert client.get(f"{link.url}/thanks").headers["Location"].endswith(link.url)
