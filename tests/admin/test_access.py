"""Only administrators reach the trust, staff, audit and mail pages; the nav shows them only to admins."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from tests.admin.conftest import SignIn

PAGES = ["/admin/trusts", "/admin/staff", "/admin/audit", "/admin/mail"]
POSTS = ["/admin/trusts", "/admin/teams", "/admin/staff", "/admin/staff/1/deactivate",
         "/admin/staff/1/reactivate", "/admin/staff/1/edit", "/admin/teams/T1/edit"]


@pytest.mark.parametrize("path", PAGES)
def test_anonymous_visitors_are_sent_to_sign_in(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/staff/login?next=")


@pytest.mark.parametrize("traits", [{}, {"monitor": True}], ids=["researcher", "trust_monitor"])
def test_researchers_and_trust_monitors_are_refused(client: FlaskClient, sign_in: SignIn,
                                                    traits: dict[str, bool]) -> None:
    sign_in(**traits)
    for path in PAGES:
        assert client.get(path).status_code == 403, path
    for path in POSTS:
        assert client.post(path, data={}).status_code == 403, path
    nav = client.get("/staff/").get_data(as_text=True)
    assert "Trusts &amp; teams" not in nav and "Audit log" not in nav


def test_admins_see_every_page_and_the_links(client: FlaskClient, sign_in: SignIn) -> None:
    sign_in(admin=True)
    for path in PAGES:
        assert client.get(path).status_code == 200, path
    nav = client.get("/staff/").get_data(as_text=True)
    for label, path in [("Trusts &amp; teams", "/admin/trusts"), ("Staff accounts", "/admin/staff"),
                        ("Audit log", "/admin/audit"), ("Mail", "/admin/mail")]:
        assert f'<a href="{path}">{label}</a>' in nav
