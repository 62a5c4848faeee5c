"""Configuration: environment variables with documented defaults; no secret key, no start."""

from __future__ import annotations

import pytest

from survey import create_app
from survey.config import Config, ConfigError


def test_defaults_are_documented_values() -> None:
    config = Config(environ={})
    assert config.DATABASE_URL.startswith("sqlite:///") and config.DATABASE_URL.endswith("instance/peerpulse.db")
    assert config.TIMEZONE == "Europe/London"
    assert config.MAIL_BACKEND == "file"
    assert config.SESSION_COOKIE_SECURE is False


def test_https_base_url_makes_cookies_secure() -> None:
    config = Config(environ={"BASE_URL": "https://pulse.example.org/"})
    assert config.BASE_URL == "https://pulse.example.org"
    assert config.SESSION_COOKIE_SECURE is True


def test_production_without_secret_key_refuses_to_start(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SECRET_KEY", "FLASK_DEBUG", "PEERPULSE_DEMO"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ConfigError, match="SECRET_KEY is not set"):
        create_app({"DATABASE_URL": "sqlite:///:memory:"})


def test_demo_mode_gets_a_development_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("PEERPULSE_DEMO", "1")
    app = create_app({"DATABASE_URL": "sqlite:///:memory:"})
    assert app.config["SECRET_KEY"]


def test_given_secret_key_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECRET_KEY", "s3cret-from-env")
    app = create_app({"DATABASE_URL": "sqlite:///:memory:"})
    assert app.config["SECRET_KEY"] == "s3cret-from-env"


def test_https_base_url_given_as_mapping_also_secures_cookies() -> None:
    app = create_app({"DATABASE_URL": "sqlite:///:memory:", "TESTING": True,
                      "BASE_URL": "https://pulse.example.org"})
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_behind_a_proxy_the_client_address_is_trusted_once() -> None:
    app = create_app({"DATABASE_URL": "sqlite:///:memory:", "TESTING": True, "PROXY_COUNT": 1})

    @app.route("/whoami")
    def whoami() -> str:
        from flask import request

        return f"{request.remote_addr} {request.scheme}"

    response = app.test_client().get("/whoami", headers={"X-Forwarded-For": "203.0.113.7",
                                                         "X-Forwarded-Proto": "https"})
    assert response.get_data(as_text=True) == "203.0.113.7 https"


def test_an_unknown_default_time_zone_stops_start_up(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PEERPULSE_TIMEZONE", "Europe/Londn")
    with pytest.raises(ConfigError, match="PEERPULSE_TIMEZONE='Europe/Londn' is not a time zone"):
        create_app({"DATABASE_URL": "sqlite:///:memory:", "SECRET_KEY": "k"})


@pytest.mark.parametrize("raw", ["1", "2", "0", "-4"])
def test_a_minimum_group_below_three_stops_start_up(monkeypatch: pytest.MonkeyPatch, raw: str) -> None:
    monkeypatch.setenv("PEERPULSE_MIN_GROUP_SIZE", raw)
    with pytest.raises(ConfigError, match=rf"PEERPULSE_MIN_GROUP_SIZE={raw} is too small.*at least 3"):
        create_app({"DATABASE_URL": "sqlite:///:memory:", "SECRET_KEY": "k"})


def test_a_minimum_group_that_is_not_a_number_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PEERPULSE_MIN_GROUP_SIZE", "five")
    with pytest.raises(ConfigError, match="PEERPULSE_MIN_GROUP_SIZE must be a whole number, not 'five'"):
        create_app({"DATABASE_URL": "sqlite:///:memory:", "SECRET_KEY": "k"})


def test_a_minimum_group_of_three_is_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PEERPULSE_MIN_GROUP_SIZE", "3")
    app = create_app({"DATABASE_URL": "sqlite:///:memory:", "SECRET_KEY": "k"})
    assert app.config["MIN_GROUP_SIZE"] == 3


def test_a_minimum_group_given_in_code_is_checked_too() -> None:
    with pytest.raises(ConfigError, match="PEERPULSE_MIN_GROUP_SIZE=1 is too small"):
        create_app({"DATABASE_URL": "sqlite:///:memory:", "SECRET_KEY": "k", "MIN_GROUP_SIZE": 1})
