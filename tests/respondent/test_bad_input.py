"""Tampered posts get a plain 400 and store nothing; no post ever makes a 500."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import pytest
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from instruments import load_instrument
from survey import models as m
from survey.db import get_sessionmaker
from tests import factories as f
from tests.respondent.conftest import (
    FORM,
    PersonalLink,
    csrf_token,
    link_in,
    make_link,
    post_form,
    see_committed,
    stored_answers,
)

PEER = load_instrument("peer_worker", 1)
PAGE_ONE = PEER.pages(first_wave=True)[0]
PAGE_ONE_IDS = [item.id for item in PAGE_ONE.items]
VALID = {"1", "2", "3", "4", "5", "na"}


def _pages_saved(db: Session, invitation: m.Invitation) -> list[str] | None:
    see_committed(db)
    return db.scalar(select(m.Response.pages_saved).where(m.Response.invitation_id == invitation.id))


@pytest.mark.parametrize(
    "data",
    [
        {"pw_id_1": "6"},
        {"pw_id_1": "0"},
        {"pw_id_1": "-1"},
        {"pw_id_1": "4", "pw_id_2": "3.5"},
        {"pw_id_1": "4", "pw_id_2": "NA"},
        {"pw_id_1": "4", "surname": "Smith"},
        {"pw_id_1": "4", "pw_su_1": "4"},  # an item of another page
        {"pw_id_1": "4", "csrf_token": "x"},  # CSRF is off here, so the form has no such field
    ],
    ids=["above", "zero", "negative", "fraction", "wrong-na", "unknown-field", "other-page", "extra"],
)
def test_tampered_page_is_a_400_that_stores_nothing(
    db: Session, client: FlaskClient, link: PersonalLink, data: dict[str, str]
) -> None:
    post_form(client, f"{link.url}/page/1", {"pw_id_3": "2"})
    client.get(f"{link.url}/page/1")
    response = post_form(client, f"{link.url}/page/1", data)
    assert response.status_code == 400
    assert "Nothing was saved" in response.get_data(as_text=True)
    assert stored_answers(db, link.invitation) == {"pw_id_3": 2}


def test_a_field_sent_twice_is_a_400(db: Session, client: FlaskClient, link: PersonalLink) -> None:
    response = client.post(f"{link.url}/page/1", data="pw_id_1=4&pw_id_1=5", content_type=FORM)
    assert response.status_code == 400
    assert _pages_saved(db, link.invitation) is None


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ('{"pw_id_1": 4}', "application/json"),
        ("pw_id_1=4", "text/plain"),
        ("pw_id_1=4", ""),
    ],
)
def test_wrong_content_type_is_a_400(
    db: Session, client: FlaskClient, link: PersonalLink, body: str, content_type: str
) -> None:
    response = client.post(f"{link.url}/page/1", data=body, content_type=content_type)
    assert response.status_code == 400
    assert stored_answers(db, link.invitation) == {}
    assert _pages_saved(db, link.invitation) is None


def test_a_huge_body_is_refused_and_stores_nothing(db: Session, client: FlaskClient, link: PersonalLink) -> None:
    response = post_form(client, f"{link.url}/page/1", {"pw_id_1": "4", "pw_id_2": "x" * 200_000})
    assert response.status_code == 413
    assert "Nothing was saved" in response.get_data(as_text=True)
    assert _pages_saved(db, link.invitation) is None


def test_other_methods_and_odd_urls_are_plain_errors(client: FlaskClient, link: PersonalLink) -> None:
    assert client.put(f"{link.url}/page/1").status_code == 405
    assert client.get(f"{link.url}/page/{'9' * 40}").status_code == 303
    assert client.get(f"/r/{'x' * 5000}").status_code == 404
    assert client.get(f"{link.url}/page/one").status_code == 404


def test_missing_or_wrong_csrf_token_is_a_400(make_app: Any) -> None:
    app = make_app(WTF_CSRF_ENABLED=True)
    link = link_in(app)
    client = app.test_client()
    session = get_sessionmaker(app)()
    try:
        path = f"{link.url}/page/1"
        token = csrf_token(client, path)
        assert post_form(client, path, {"pw_id_1": "4"}).status_code == 400
        assert post_form(client, path, {"pw_id_1": "4", "csrf_token": token[:-2] + "xx"}).status_code == 400
        assert stored_answers(session, link.invitation) == {}
        ok = post_form(client, path, {"pw_id_1": "4", "csrf_token": token})
        assert ok.status_code == 303
        assert stored_answers(session, link.invitation) == {"pw_id_1": 4}
    finally:
        session.close()


# Property: whatever is posted, the answer is a 303 (saved exactly) or a 400 (nothing saved).
_keys = st.sampled_from([*PAGE_ONE_IDS, "pw_su_1", "pw_st_1", "csrf_token", "", "pw_id_1 "]) | st.text(
    st.characters(blacklist_categories=("Cs",)), max_size=12
)
_values = st.sampled_from([*VALID, "", " ", "0", "6", "-1", "4.0", " 4", "NA", "None", "\x00"]) | st.text(
    st.characters(blacklist_categories=("Cs",)), max_size=30
)


def _expected(post: list[tuple[str, str]], content_type: str) -> dict[str, int | None] | None:
    """What a correct server stores for this post: the page's answers, or None for a 400."""
    if content_type != FORM:
        return None
    keys = [k for k, _ in post]
    if len(set(keys)) != len(keys) or not set(keys) <= set(PAGE_ONE_IDS):
        return None
    if any(v.strip() and v not in VALID for _, v in post):
        return None
    return {k: None if v == "na" else int(v) for k, v in post if v.strip()}


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    post=st.lists(st.tuples(_keys, _values), max_size=8),
    content_type=st.sampled_from([FORM, FORM, FORM, "application/json", "multipart/form-data"]),
)
def test_no_page_post_makes_a_500_or_stores_a_partial_or_invalid_answer(
    db: Session, client: FlaskClient, link: PersonalLink, post: list[tuple[str, str]], content_type: str
) -> None:
    before = stored_answers(db, link.invitation)
    response = client.post(f"{link.url}/page/1", data=urlencode(post), content_type=content_type)
    after = stored_answers(db, link.invitation)
    expected = _expected(post, content_type)
    if expected is None:
        assert response.status_code == 400
        assert after == before
    else:
        assert response.status_code == 303
        assert after == expected
    assert all(v is None or 1 <= v <= 5 for v in after.values())
    assert set(after) <= set(PAGE_ONE_IDS)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(post=st.lists(st.tuples(st.sampled_from(["decision", "csrf_token", "x"]),
                               st.sampled_from(["yes", "no", "", "maybe", "YES"])), max_size=3))
def test_no_consent_post_makes_a_500_or_records_an_unclear_decision(
    db: Session, client: FlaskClient, post: list[tuple[str, str]]
) -> None:
    link = make_link(db, participant=f.ParticipantFactory())
    response = client.post(f"{link.url}/consent", data=urlencode(post), content_type=FORM)
    see_committed(db)
    decision = db.get(m.Participant, link.invitation.participant_id).consent_decision  # type: ignore[union-attr]
    clean = len(post) == 1 and post[0][0] == "decision" and post[0][1] in {"yes", "no"}
    if clean:
        assert decision == (m.ConsentDecision.GIVEN if post[0][1] == "yes" else m.ConsentDecision.DECLINED)
        assert response.status_code in (200, 303)
    else:
        assert decision is None
        assert response.status_code in (200, 400)
