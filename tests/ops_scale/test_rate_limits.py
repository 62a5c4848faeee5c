"""Rate limits that fit trusts: per link for ordinary use, per address for guessing and sign-in."""

from __future__ import annotations

from typing import Any

import pytest

from survey.config import Config, ConfigError
from survey.extensions import limiter
from tests.ops_scale.links import open_links


def _limited_app(make_app: Any, **limits: str) -> Any:
    """An app with rate limits on (the test default turns them off)."""
    return make_app(RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI="memory://", **limits)


def test_two_hundred_people_behind_one_address_are_not_refused(make_app: Any) -> None:
    # Per-link limit far below 200: a per-address count would refuse most of these people.
    app = _limited_app(make_app, RATELIMIT_RESPONDENT="3 per minute", RATELIMIT_LINK_GUESS="5 per minute")
    tokens = open_links(app, 200)
    client = app.test_client()
    codes = [client.get(f"/r/{token}/page/1").status_code for token in tokens]
    assert codes == [200] * 200


def test_one_link_hammering_is_refused_at_its_limit(make_app: Any) -> None:
    app = _limited_app(make_app, RATELIMIT_RESPONDENT="5 per minute")
    hammered, other = open_links(app, 2)
    client = app.test_client()
    codes = [client.get(f"/r/{hammered}/page/1").status_code for _ in range(7)]
    assert codes == [200] * 5 + [429] * 2
    # Another person at the same address is not affected.
    assert client.get(f"/r/{other}/page/1").status_code == 200


def test_guessing_is_refused_per_address_while_real_links_still_work(make_app: Any) -> None:
    app = _limited_app(make_app, RATELIMIT_LINK_GUESS="5 per minute")
    (real,) = open_links(app, 1)
    client = app.test_client()
    responses = [client.get(f"/r/guess{n:04d}") for n in range(7)]
    assert [r.status_code for r in responses] == [404] * 5 + [429] * 2
    assert 1 <= int(responses[-1].headers["Retry-After"]) <= 61
    assert "Too many attempts" in responses[-1].get_data(as_text=True)
    assert client.get(f"/r/{real}/page/1").status_code == 200
    # Another address may still try a link.
    other = client.get("/r/guess9999", environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert other.status_code == 404


def test_staff_sign_in_is_limited_per_address(make_app: Any) -> None:
    app = _limited_app(make_app, RATELIMIT_STAFF_LOGIN="3 per minute")
    client = app.test_client()
    data = {"email": "nobody@example.org", "password": "wrong password here"}
    codes = [client.post("/staff/login", data=data).status_code for _ in range(5)]
    assert codes == [200] * 3 + [429] * 2
    assert client.post("/staff/login", data=data, environ_base={"REMOTE_ADDR": "10.9.9.9"}).status_code == 200


def test_the_limits_follow_the_environment(make_app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RATELIMIT_LINK_GUESS", "2 per minute")
    monkeypatch.setenv("RATELIMIT_RESPONDENT", "3/minute")
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI="memory://")
    (real,) = open_links(app, 1)
    client = app.test_client()
    assert [client.get(f"/r/nope{n}").status_code for n in range(3)] == [404, 404, 429]
    assert [client.get(f"/r/{real}/page/1").status_code for _ in range(4)] == [200, 200, 200, 429]


def test_the_limiter_never_stores_a_raw_token(make_app: Any) -> None:
    app = _limited_app(make_app)
    tokens = open_links(app, 3)
    client = app.test_client()
    for token in tokens:
        assert client.get(f"/r/{token}/page/1").status_code == 200
    with app.app_context():
        keys = list(limiter.storage.storage)  # MemoryStorage keeps its counters in a dict
    assert any("respondent-link" in key for key in keys)
    assert not [key for key in keys for token in tokens if token in key]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("RATELIMIT_RESPONDENT", "lots"),
        ("RATELIMIT_LINK_GUESS", "5 per fortnight"),
        ("RATELIMIT_STAFF_LOGIN", "-1/minute"),
        ("RATELIMIT_STORAGE_URI", "redis:/127.0.0.1"),
        ("RATELIMIT_STORAGE_URI", "postgres://db"),
    ],
)
def test_a_malformed_limit_stops_start_up_in_one_line(name: str, value: str) -> None:
    with pytest.raises(ConfigError) as caught:
        Config({name: value})
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"{name}={value!r} ")


def test_defaults_and_good_values_are_accepted() -> None:
    config = Config({"RATELIMIT_RESPONDENT": "10/second;500/hour", "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379"})
    assert config.RATELIMIT_RESPONDENT == "10/second;500/hour"
    assert config.RATELIMIT_LINK_GUESS == "30 per minute"
    assert config.RATELIMIT_STAFF_LOGIN == "10 per minute"
    assert config.RATELIMIT_STORAGE_URI == "redis://127.0.0.1:6379"
