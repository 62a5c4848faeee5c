"""/healthz and /readyz: every check passing and failing, JSON, no secrets, no limits, no cache."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import text

from survey import create_app
from survey.db import get_engine, utcnow
from survey.scheduler import heartbeat

UNREACHABLE = "postgresql+psycopg://nobody:hunter2-secret@127.0.0.1:1/peerpulse"


def ready(app: Flask) -> tuple[int, dict[str, Any]]:
    response = app.test_client().get("/readyz")
    assert response.headers["Cache-Control"] == "no-store"
    assert response.mimetype == "application/json"
    return response.status_code, response.get_json()


def statuses(body: dict[str, Any]) -> dict[str, str]:
    return {name: check["status"] for name, check in body["checks"].items()}


@pytest.fixture
def beating(app: Flask) -> Flask:
    """The app, with a scheduler heartbeat recorded just now."""
    heartbeat(app, "scheduler@test:1")
    return app


def test_healthz_answers_without_a_database(tmp_path: Any) -> None:
    app = create_app({"TESTING": True, "DATABASE_URL": UNREACHABLE})
    response = app.test_client().get("/healthz")
    assert (response.status_code, response.get_json()) == (200, {"status": "ok"})
    assert response.headers["Cache-Control"] == "no-store"
    get_engine(app).dispose()


def test_ready_when_every_check_passes(beating: Flask) -> None:
    code, body = ready(beating)
    assert code == 200 and body["status"] == "ready"
    assert statuses(body) == {"database": "ok", "migrations": "ok", "scheduler": "ok", "mail": "ok"}


def test_not_ready_without_a_database_and_no_secret_in_the_body() -> None:
    app = create_app({"TESTING": True, "DATABASE_URL": UNREACHABLE, "SECRET_KEY": "s3cr3t-key",
                      "SMTP_PASSWORD": "mail-pass"})
    response = app.test_client().get("/readyz")
    body = response.get_json()
    assert response.status_code == 503 and body["status"] == "not ready"
    assert statuses(body)["database"] == "fail"
    assert body["checks"]["database"]["detail"] == "database unreachable (OperationalError)"
    raw = response.get_data(as_text=True)
    for secret in ("hunter2", "nobody", "s3cr3t-key", "mail-pass", "127.0.0.1"):
        assert secret not in raw
    get_engine(app).dispose()


def test_not_ready_when_the_schema_is_behind(beating: Flask) -> None:
    engine = get_engine(beating)
    with engine.begin() as conn:
        head = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
        conn.execute(text("UPDATE alembic_version SET version_num = '0003'"))
    try:
        code, body = ready(beating)
    finally:
        with engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": head})
    assert code == 503 and statuses(body)["migrations"] == "fail"
    assert body["checks"]["migrations"]["detail"] == (
        f"schema at 0003, code expects {head}: run `flask db upgrade`")


def test_not_ready_without_a_scheduler(app: Flask) -> None:
    code, body = ready(app)
    assert code == 503 and statuses(body)["scheduler"] == "fail"
    assert body["checks"]["scheduler"]["detail"].startswith("no scheduler has run: start `flask scheduler`")


def test_not_ready_when_the_heartbeat_is_stale(make_app: Any) -> None:
    app = make_app(HEARTBEAT_MAX_AGE=60)
    heartbeat(app, "scheduler@test:1", now=utcnow() - dt.timedelta(seconds=90))
    code, body = ready(app)
    assert code == 503 and statuses(body)["scheduler"] == "fail"
    assert "last seen 9" in body["checks"]["scheduler"]["detail"]
    assert "(more than 60 s)" in body["checks"]["scheduler"]["detail"]
    heartbeat(app, "scheduler@test:1")
    assert ready(app)[0] == 200


def test_the_scheduler_check_can_be_switched_off(make_app: Any) -> None:
    code, body = ready(make_app(READY_REQUIRE_SCHEDULER=False))
    assert code == 200 and statuses(body)["scheduler"] == "skipped"


@pytest.mark.parametrize(("overrides", "detail"), [
    ({"MAIL_BACKEND": "pigeon"}, "MAIL_BACKEND must be smtp or file, not 'pigeon'"),
    ({"MAIL_BACKEND": "smtp", "SMTP_HOST": ""}, "MAIL_BACKEND is smtp but SMTP_HOST or SMTP_PORT is not set"),
    ({"MAIL_BACKEND": "file", "MAIL_FILE_DIR": "{tmp}/a-file/mail"},
     "MAIL_BACKEND is file but MAIL_FILE_DIR cannot be written"),
])
def test_not_ready_when_mail_is_not_configured(
    make_app: Any, tmp_path: Path, overrides: dict[str, Any], detail: str
) -> None:
    (tmp_path / "a-file").write_text("not a directory")
    app = make_app(**{k: str(v).replace("{tmp}", str(tmp_path)) if k == "MAIL_FILE_DIR" else v
                      for k, v in overrides.items()})
    heartbeat(app, "scheduler@test:1")
    code, body = ready(app)
    assert code == 503 and body["checks"]["mail"] == {"status": "fail", "detail": detail}
    assert statuses(body)["database"] == "ok"


def test_smtp_mail_is_ready(make_app: Any) -> None:
    app = make_app(MAIL_BACKEND="smtp", SMTP_HOST="mail.example.org")
    heartbeat(app, "scheduler@test:1")
    assert ready(app)[0] == 200


def test_health_endpoints_are_not_rate_limited_nor_signed_in(make_app: Any) -> None:
    from survey.extensions import limiter

    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_APPLICATION="3 per minute")
    try:
        client = app.test_client()
        assert {client.get("/healthz").status_code for _ in range(10)} == {200}
        assert {client.get("/readyz").status_code for _ in range(10)} == {503}  # no scheduler: 503, not 429
        # The same limit does hold on an ordinary page.
        assert 429 in {client.get("/staff/login").status_code for _ in range(10)}
    finally:
        # Flask-Limiter keeps the first application-wide limit it is given for every later app
        # in the process (the app itself sets none): take it away again.
        limiter.limit_manager.set_application_limits([])


@pytest.fixture(autouse=True)
def _fresh_limits() -> Iterator[None]:
    """The limiter's memory storage is shared by apps in one process: start each test clean."""
    from survey.extensions import limiter

    yield
    if limiter.enabled and getattr(limiter, "_storage", None) is not None:
        limiter.reset()
