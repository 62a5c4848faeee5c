"""The front door `/`: what PeerPulse is, where respondents find their link, staff sign-in; Welsh too."""

from __future__ import annotations

from flask.testing import FlaskClient


def test_front_page_points_respondents_to_their_link_and_staff_to_sign_in(client: FlaskClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert '<html lang="en-GB">' in page
    assert "Use the personal link in your email or text message." in page
    assert 'href="/staff/login"' in page
    assert 'href="?lang=cy"' in page  # the language switch
    # Nothing on it asks for a token or a password: respondents come with their link.
    assert "<form" not in page


def test_front_page_in_welsh_by_choice_or_by_the_browser(client: FlaskClient) -> None:
    for response in (client.get("/?lang=cy"), client.get("/", headers={"Accept-Language": "cy"})):
        page = response.get_data(as_text=True)
        assert response.status_code == 200
        assert '<html lang="cy">' in page
        assert "Defnyddiwch y ddolen bersonol yn eich e-bost" in page
        assert "Mewngofnodi staff" in page
        assert "Use the personal link" not in page
    assert '<html lang="en-GB">' in client.get("/?lang=xx").get_data(as_text=True)
