"""The long table and one FHIR QuestionnaireResponse through the API, checked against the database."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from survey import models as m
from tests.api.conftest import bearer

MakeToken = Callable[..., tuple[m.User, str]]


def _stored_scores(db: Session, study: m.Study) -> dict[tuple[str, int, str], tuple[float | None, int]]:
    """Every submitted score of the study: (participant, wave, scale) -> (score, items answered)."""
    rows = db.execute(
        select(m.Participant.code, m.Wave.index, m.ScaleScore.scale, m.ScaleScore.score,
               m.ScaleScore.items_answered)
        .join(m.Response, m.ScaleScore.response_id == m.Response.id)
        .join(m.Invitation, m.Response.invitation_id == m.Invitation.id)
        .join(m.Wave, m.Invitation.wave_id == m.Wave.id)
        .join(m.Participant, m.Invitation.participant_id == m.Participant.id)
        .where(m.Wave.study_id == study.id, m.Response.submitted_at.is_not(None))
    ).all()
    return {(p, w, s): (score, answered) for p, w, s, score, answered in rows}


def _researcher_token(make_token: MakeToken) -> str:
    return make_token(role=m.StaffRole.RESEARCHER)[1]


def test_long_data_as_json_matches_the_database(db: Session, client: FlaskClient,
                                                trust: dict[str, Any], make_token: MakeToken) -> None:
    study = trust["study"]
    token = _researcher_token(make_token)
    response = client.get(f"/api/v1/studies/{study.code}/long", headers=bearer(token))
    assert response.status_code == 200 and response.mimetype == "application/json"
    body = response.get_json()
    assert body["study"] == study.code
    assert body["columns"] == ["participant", "team", "trust", "role", "role_group", "wave", "months",
                               "scale", "score", "items_answered", "items_not_asked", "language"]
    assert {r["language"] for r in body["rows"]} == set(db.scalars(
        select(m.Response.language).where(m.Response.submitted_at.is_not(None))))
    stored = _stored_scores(db, study)
    assert len(stored) == 2 * (8 * 2 + 11)  # two scales: 8 peers at two waves, 11 colleagues at one
    got = {(r["participant"], r["wave"], r["scale"]): (r["score"], r["items_answered"])
           for r in body["rows"]}
    assert len(got) == len(body["rows"]) == len(stored)
    for key, (score, answered) in stored.items():
        assert got[key][1] == answered
        assert got[key][0] == pytest.approx(score, abs=1e-12)
    # Participant codes only: the long table carries no contact details or database ids.
    codes = set(db.scalars(select(m.Participant.code)))
    assert {r["participant"] for r in body["rows"]} <= codes
    assert {r["trust"] for r in body["rows"]} == {"NRT"}
    peers = {r["role_group"] for r in body["rows"] if r["role"] == "peer_worker"}
    assert peers == {"peer_worker"}


def test_long_data_as_csv_is_the_exports_long_table(db: Session, client: FlaskClient,
                                                    trust: dict[str, Any], make_token: MakeToken) -> None:
    study = trust["study"]
    token = _researcher_token(make_token)
    response = client.get(f"/api/v1/studies/{study.code}/long?format=csv", headers=bearer(token))
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    stored = _stored_scores(db, study)
    assert {(r["participant"], int(r["wave"]), r["scale"]): (float(r["score"]), int(r["items_answered"]))
            for r in rows} == stored
    bad = client.get(f"/api/v1/studies/{study.code}/long?format=xlsx", headers=bearer(token))
    assert bad.status_code == 400 and "'format'" in bad.get_json(force=True)["detail"]


def test_long_data_reads_are_audited(db: Session, client: FlaskClient, trust: dict[str, Any],
                                     sign_in: Callable[..., m.User]) -> None:
    study = trust["study"]
    user = sign_in(role=m.StaffRole.ADMIN)  # the session works as well as a token
    assert client.get(f"/api/v1/studies/{study.code}/long").status_code == 200
    db.rollback()  # a new transaction sees what the requests committed
    event = db.scalars(select(m.AuditEvent).where(m.AuditEvent.action == "api.long_data")).one()
    assert (event.user_id, event.target_id) == (user.id, study.code)
    assert event.detail["rows"] == len(_stored_scores(db, study))


def _answers(db: Session, response_id: int) -> dict[str, object]:
    """The stored answers of one response: item -> text, number, or whole value (None: does not apply)."""
    rows = db.execute(select(m.Answer.item_id, m.Answer.value_text, m.Answer.value_number,
                             m.Answer.value).where(m.Answer.response_id == response_id)).all()
    return {i: t if t is not None else n if n is not None else v for i, t, n, v in rows}


def _fhir_answers(resource: dict[str, Any]) -> dict[str, object]:
    """The answers of a QuestionnaireResponse, as _answers has them."""
    out: dict[str, object] = {}
    for group in resource.get("item", []):
        for item in group["item"]:
            (answer,) = item["answer"]
            if "valueCoding" in answer:
                coding = answer["valueCoding"]
                out[item["linkId"]] = (None if coding["code"] == "not-applicable"
                                       else int(coding["code"]))
            else:
                (value,) = answer.values()
                out[item["linkId"]] = value
    return out


def _response_with_free_text(db: Session) -> tuple[int, str, int]:
    """A submitted demo response holding a free-text answer: (response id, participant, wave)."""
    rid, code, wave = db.execute(
        select(m.Response.id, m.Participant.code, m.Wave.index)
        .join(m.Invitation, m.Response.invitation_id == m.Invitation.id)
        .join(m.Wave, m.Invitation.wave_id == m.Wave.id)
        .join(m.Participant, m.Invitation.participant_id == m.Participant.id)
        .join(m.Answer, m.Answer.response_id == m.Response.id)
        .where(m.Response.submitted_at.is_not(None), m.Answer.value_text.is_not(None))
        .order_by(m.Response.id).limit(1)
    ).one()
    return rid, code, wave


def test_one_fhir_response_matches_the_database(db: Session, client: FlaskClient, demo: m.Study,
                                                make_token: MakeToken) -> None:
    rid, code, wave = _response_with_free_text(db)
    stored = _answers(db, rid)
    texts = {item for item, value in stored.items() if isinstance(value, str)}
    assert texts
    token = _researcher_token(make_token)
    url = f"/api/v1/studies/demo/responses/{code}-wave-{wave}/fhir"

    response = client.get(url, headers=bearer(token))
    assert response.status_code == 200 and response.mimetype == "application/fhir+json"
    resource = response.get_json(force=True)
    assert resource["resourceType"] == "QuestionnaireResponse" and resource["status"] == "completed"
    assert resource["subject"] == {"identifier": {"system": "urn:peerpulse:participant", "value": code}}
    assert resource["identifier"]["value"] == f"{code}-wave-{wave}"
    instrument_id, version = db.execute(select(m.Response.instrument_id, m.Response.instrument_version)
                                        .where(m.Response.id == rid)).one()
    assert resource["questionnaire"] == f"urn:peerpulse:questionnaire:{instrument_id}|{version}"
    # Free text is left out unless asked for; every other answer is there, as stored.
    assert _fhir_answers(resource) == {k: v for k, v in stored.items() if k not in texts}
    assert not any(str(stored[t]) in response.get_data(as_text=True) for t in texts)

    with_text = client.get(f"{url}?free_text=true", headers=bearer(token)).get_json(force=True)
    assert _fhir_answers(with_text) == stored
    db.rollback()  # a new transaction sees what the requests committed
    events = db.scalars(select(m.AuditEvent).where(m.AuditEvent.action == "api.fhir_response")
                        .order_by(m.AuditEvent.id)).all()
    assert [(e.detail["response"], e.detail["free_text"]) for e in events] == [
        (f"{code}-wave-{wave}", False), (f"{code}-wave-{wave}", True)]


@pytest.mark.parametrize("response_id", ["P0000000000-wave-1", "nothing", "-wave-1", "P1-wave-x"])
def test_an_unknown_response_is_404_and_not_audited(db: Session, client: FlaskClient, demo: m.Study,
                                                     make_token: MakeToken, response_id: str) -> None:
    token = _researcher_token(make_token)
    response = client.get(f"/api/v1/studies/demo/responses/{response_id}/fhir", headers=bearer(token))
    assert response.status_code == 404 and response.mimetype == "application/problem+json"
    assert "-wave-" in response.get_json(force=True)["detail"]
    db.rollback()  # a new transaction sees what the requests committed
    assert db.scalars(select(m.AuditEvent).where(m.AuditEvent.action == "api.fhir_response")).all() == []


def test_a_score_that_is_missing_is_null(db: Session, client: FlaskClient, trust: dict[str, Any],
                                         make_token: MakeToken) -> None:
    score = db.scalars(select(m.ScaleScore).order_by(m.ScaleScore.id).limit(1)).one()
    score.score = None
    db.commit()
    token = _researcher_token(make_token)
    rows = client.get(f"/api/v1/studies/{trust['study'].code}/long", headers=bearer(token)).get_json()["rows"]
    nulls = [r for r in rows if r["score"] is None]
    assert len(nulls) == 1 and not any(isinstance(r["score"], float) and math.isnan(r["score"]) for r in rows)
