"""Personal API tokens on the API: the owner's role and trust, 401 with a Bearer challenge, audit."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from survey import models as m
from survey.db import utcnow
from tests.api.conftest import bearer

STUDIES = "/api/v1/studies"
OWN_TRUST = "/api/v1/trusts/NRT/dashboard?study=demo"
OTHER_TRUST = "/api/v1/trusts/SHP/dashboard?study=demo"
MODEL = "/api/v1/studies/demo/model?scale=equality"
LONG = "/api/v1/studies/demo/long"
URLS = (STUDIES, OWN_TRUST, OTHER_TRUST, MODEL, LONG)

# The same matrix as the session's (tests/api/test_access.py); the monitor belongs to NRT.
MATRIX = {
    m.StaffRole.TRUST_MONITOR: (200, 200, 403, 403, 403),
    m.StaffRole.RESEARCHER: (200, 200, 200, 200, 200),
    m.StaffRole.ADMIN: (200, 200, 200, 200, 200),
}
CHALLENGE = 'Bearer realm="PeerPulse API"'
MakeToken = Callable[..., tuple[m.User, str]]


def _fhir_url(db: Session) -> str:
    """The FHIR address of one submitted response of the demo."""
    code, wave = db.execute(
        select(m.Participant.code, m.Wave.index)
        .join(m.Invitation, m.Invitation.participant_id == m.Participant.id)
        .join(m.Wave, m.Invitation.wave_id == m.Wave.id)
        .join(m.Response, m.Response.invitation_id == m.Invitation.id)
        .where(m.Response.submitted_at.is_not(None)).limit(1)).one()
    return f"/api/v1/studies/demo/responses/{code}-wave-{wave}/fhir"


def _writes(db: Session) -> tuple[int, list[object]]:
    """What a refused request must not change: the audit log and every token's last use."""
    db.rollback()  # a new transaction sees what the requests committed
    return (db.scalar(select(func.count()).select_from(m.AuditEvent)) or 0,
            list(db.scalars(select(m.ApiToken.last_used_at).order_by(m.ApiToken.id))))


def test_a_token_acts_as_its_owner_for_each_role(db: Session, client: FlaskClient, demo: m.Study,
                                                 make_token: MakeToken) -> None:
    nrt = db.scalar(select(m.Organisation).where(m.Organisation.code == "NRT"))
    fhir = _fhir_url(db)
    for role, expected in MATRIX.items():
        _user, token = make_token(role=role, organisation=nrt if role == m.StaffRole.TRUST_MONITOR else None)
        for url, status in [*zip(URLS, expected, strict=True),
                            (fhir, 403 if role == m.StaffRole.TRUST_MONITOR else 200)]:
            response = client.get(url, headers=bearer(token))
            assert response.status_code == status, f"{role} GET {url}: {response.status_code}"
            # No session is made or needed: no cookie is set, and this client never signed in.
            assert "Set-Cookie" not in response.headers, url
            if status == 403:
                assert response.mimetype == "application/problem+json"
                assert response.get_json(force=True)["status"] == 403


def test_a_monitor_token_reads_its_own_trust_not_another(db: Session, client: FlaskClient,
                                                          demo: m.Study, make_token: MakeToken) -> None:
    shp = db.scalar(select(m.Organisation).where(m.Organisation.code == "SHP"))
    _user, token = make_token(role=m.StaffRole.TRUST_MONITOR, organisation=shp)
    own = client.get(OTHER_TRUST, headers=bearer(token))
    assert own.status_code == 200 and own.get_json()["trust"]["code"] == "SHP"
    other = client.get(OWN_TRUST, headers=bearer(token))
    assert other.status_code == 403 and "'NRT'" in other.get_json(force=True)["detail"]


def test_every_use_is_audited_with_the_token_name(db: Session, client: FlaskClient, demo: m.Study,
                                                  make_token: MakeToken) -> None:
    user, token = make_token(name="nightly R report", role=m.StaffRole.RESEARCHER)
    before = utcnow()
    assert client.get(STUDIES, headers=bearer(token)).status_code == 200
    assert client.get(OTHER_TRUST, headers=bearer(token)).status_code == 200
    db.rollback()  # a new transaction sees what the requests committed
    uses = db.scalars(select(m.AuditEvent).where(m.AuditEvent.action == "api.token_use")
                      .order_by(m.AuditEvent.id)).all()
    assert [(e.user_id, e.actor, e.detail["token"], e.detail["path"]) for e in uses] == [
        (user.id, user.email, "nightly R report", "/api/v1/studies"),
        (user.id, user.email, "nightly R report", "/api/v1/trusts/SHP/dashboard"),
    ]
    row = db.scalars(select(m.ApiToken)).one()
    assert row.last_used_at is not None and row.last_used_at >= before
    assert uses[0].target_id == str(row.id)


def test_only_the_hash_is_stored(db: Session, make_token: MakeToken) -> None:
    _user, token = make_token(role=m.StaffRole.ADMIN)
    assert token.startswith("pp_") and len(token) == 46
    row = db.scalars(select(m.ApiToken)).one()
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    stored = [str(v) for v in db.execute(select(m.ApiToken.__table__)).one()]
    stored += [str(e.detail) for e in db.scalars(select(m.AuditEvent))]
    assert not any(token in value or token[3:] in value for value in stored)


def _revoked(db: Session, make_token: MakeToken) -> str:
    user, token = make_token(role=m.StaffRole.ADMIN)
    db.scalars(select(m.ApiToken).where(m.ApiToken.user_id == user.id)).one().revoked_at = utcnow()
    db.commit()
    return token


def _disabled_owner(db: Session, make_token: MakeToken) -> str:
    user, token = make_token(role=m.StaffRole.ADMIN)
    user.active = False
    db.commit()
    return token


def _owner_lost_second_factor(db: Session, make_token: MakeToken) -> str:
    user, token = make_token(role=m.StaffRole.RESEARCHER)
    user.totp_secret = user.totp_enabled_at = None
    db.commit()
    return token


REFUSED: dict[str, tuple[Callable[[Session, MakeToken], str], str]] = {
    "revoked": (_revoked, "revoked on"),
    "unknown": (lambda _db, _make: "pp_" + "A" * 43, "not known"),
    "malformed": (lambda _db, _make: "not a token", "malformed"),
    "too long": (lambda _db, _make: "pp_" + "A" * 500, "malformed"),
    "disabled owner": (_disabled_owner, "disabled"),
    "owner without second factor": (_owner_lost_second_factor, "two-factor"),
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_a_refused_token_is_401_with_a_challenge_and_writes_nothing(
        db: Session, client: FlaskClient, make_token: MakeToken, case: str) -> None:
    make_token(role=m.StaffRole.ADMIN)  # a valid token beside it, whose last use must not change
    presented = REFUSED[case][0](db, make_token)
    before = _writes(db)
    response = client.get(STUDIES, headers=bearer(presented))
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    body = response.get_json(force=True)
    assert body["status"] == 401 and REFUSED[case][1] in body["detail"]
    challenge = response.headers["WWW-Authenticate"]
    assert challenge.startswith(CHALLENGE) and 'error="invalid_token"' in challenge
    assert "Set-Cookie" not in response.headers
    assert _writes(db) == before


def test_no_credentials_is_401_with_a_bearer_challenge(client: FlaskClient) -> None:
    response = client.get(STUDIES)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == CHALLENGE
    assert "Bearer" in response.get_json(force=True)["detail"]


def test_another_scheme_is_refused(db: Session, client: FlaskClient) -> None:
    before = _writes(db)
    response = client.get(STUDIES, headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert response.status_code == 401
    assert 'error="invalid_request"' in response.headers["WWW-Authenticate"]
    assert _writes(db) == before


def test_a_refused_token_never_falls_back_to_the_session(
        client: FlaskClient, sign_in: Callable[..., m.User], make_token: MakeToken) -> None:
    sign_in(role=m.StaffRole.ADMIN)
    assert client.get(STUDIES).status_code == 200
    assert client.get(STUDIES, headers=bearer("pp_" + "B" * 43)).status_code == 401


def test_a_token_needs_no_csrf_token_or_cookie(make_app: Callable[..., Flask], db: Session,
                                               make_token: MakeToken) -> None:
    app = make_app(WTF_CSRF_ENABLED=True)
    _user, token = make_token(role=m.StaffRole.RESEARCHER)
    client = app.test_client(use_cookies=False)
    response = client.get(STUDIES, headers=bearer(token))
    assert response.status_code == 200 and response.get_json() == {"studies": []}
    assert "Set-Cookie" not in response.headers


def test_token_use_is_rate_limited_per_token(make_app: Callable[..., Flask], db: Session,
                                             make_token: MakeToken) -> None:
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_API_TOKEN="2 per minute")
    client = app.test_client()
    _user, first = make_token(role=m.StaffRole.RESEARCHER)
    _other, second = make_token(role=m.StaffRole.RESEARCHER)
    assert [client.get(STUDIES, headers=bearer(first)).status_code for _ in range(3)] == [200, 200, 429]
    assert client.get(STUDIES, headers=bearer(second)).status_code == 200
    limited = client.get(STUDIES, headers=bearer(first))
    assert limited.mimetype == "application/problem+json"
    # Requests with the session cookie are not counted against tokens.
    assert client.get(STUDIES).status_code == 401


def test_refused_tokens_are_rate_limited_per_address(make_app: Callable[..., Flask], db: Session,
                                                     make_token: MakeToken) -> None:
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_API_TOKEN_FAILED="2 per minute")
    client = app.test_client()
    make_token(role=m.StaffRole.RESEARCHER)
    guesses = [client.get(STUDIES, headers=bearer(f"pp_{c * 43}")).status_code for c in "CDE"]
    assert guesses == [401, 401, 429]
