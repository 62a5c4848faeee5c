"""The respondent journey in a real headless Chromium: consent, pages, resume, finish, axe-core.

Each page visited is checked with axe-core (WCAG 2.0/2.1 A and AA) at a phone width and at
320 px, where it must not scroll sideways.
"""

from __future__ import annotations

from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from sqlalchemy import select
from sqlalchemy.orm import Session

from instruments import load_instrument
from survey import models as m
from tests import factories as f
from tests.browser_fixtures import AXE_OPTIONS
from tests.respondent.conftest import make_link, stored_answers

pytestmark = pytest.mark.browser

PEER = load_instrument("peer_worker", 1)
PAGES = PEER.pages(first_wave=True)

AXE = Axe()
PHONE = {"width": 390, "height": 844}
NARROW = {"width": 320, "height": 640}


def check_accessible(page: Any, name: str) -> None:
    """Zero axe violations at phone width and at 320 px, with no sideways scrolling at 320 px."""
    for viewport in (PHONE, NARROW):
        page.set_viewport_size(viewport)
        results = AXE.run(page, options=AXE_OPTIONS)
        print(f"axe {name} @{viewport['width']}px: {results.violations_count} violations")
        assert results.violations_count == 0, f"{name}: {results.generate_report()}"
    page.set_viewport_size(NARROW)
    width = page.evaluate("document.scrollingElement.scrollWidth")
    assert width <= NARROW["width"], f"{name} scrolls sideways at 320 px ({width} px wide)"
    page.set_viewport_size(PHONE)


def answer(page: Any, values: dict[str, str]) -> None:
    """Choose answers by clicking their radio buttons."""
    for item_id, value in values.items():
        page.locator(f'input[name="{item_id}"][value="{value}"]').check()


def submit(page: Any) -> None:
    """Press the page's main button and wait for the next page."""
    with page.expect_navigation():
        page.locator("main form .actions button[type=submit]").click()


def test_consent_answer_close_reopen_resume_finish(
    db: Session, browser: Any, live_server: str
) -> None:
    link = make_link(db, participant=f.ParticipantFactory())
    url = live_server + link.url

    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    page.goto(url)
    assert page.url.endswith("/consent")
    check_accessible(page, "consent")
    submit(page)  # no choice made: the validation error page
    assert page.locator(".error-summary").is_visible()
    check_accessible(page, "consent with a validation error")
    page.get_by_label("Yes, I agree to take part").check()
    submit(page)
    assert page.url.endswith("/page/1")

    chosen: dict[str, int | None] = {}
    for number in (1, 2):
        check_accessible(page, f"survey page {number}")
        values = {item.id: ("na" if i == 0 else str(1 + i % 5)) for i, item in enumerate(PAGES[number - 1].items)}
        answer(page, values)
        chosen.update({k: None if v == "na" else int(v) for k, v in values.items()})
        if number == 1:
            page.set_viewport_size(NARROW)
            page.screenshot(path="/tmp/survey-320.png", full_page=True)
            page.set_viewport_size(PHONE)
        submit(page)
    assert page.url.endswith("/page/3")
    context.close()  # the person closes the browser

    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    page.goto(url)
    assert page.url.endswith("/page/3"), "reopening the link resumes at the first unanswered page"
    page.get_by_role("link", name="Back to page 2").click()
    assert page.url.endswith("/page/2")
    for item in PAGES[1].items:
        value = "na" if chosen[item.id] is None else str(chosen[item.id])
        assert page.locator(f'input[name="{item.id}"][value="{value}"]').is_checked()
    submit(page)
    for number in range(3, len(PAGES) + 1):
        assert page.url.endswith(f"/page/{number}")
        check_accessible(page, f"survey page {number}")
        answer(page, {PAGES[number - 1].items[0].id: "4"})
        chosen[PAGES[number - 1].items[0].id] = 4
        submit(page)
    assert page.url.endswith("/thanks")
    assert page.get_by_role("heading", name="Your scores over time").is_visible()
    check_accessible(page, "thank-you with own scores")
    page.set_viewport_size(NARROW)
    page.screenshot(path="/tmp/thanks-320.png", full_page=True)
    page.set_viewport_size(PHONE)
    page.reload()
    assert page.url.endswith("/thanks")
    context.close()

    assert stored_answers(db, link.invitation) == chosen
    scores = {s.scale: (s.score, s.items_answered) for s in db.scalars(select(m.ScaleScore))}
    # By hand: on pages 1 and 2 the i-th item (from 0) got n/a, then 2, 3, 4, 5, 1; reverse-keyed
    # items score 6 - answer. Pages 3-7 got one answer (4) each: under 60% answered, no score.
    assert scores == {
        # pw_id_1..6 (4, 5 reversed): n/a, 2, 3, 4 -> 2, 5 -> 1, 1
        "identity": (pytest.approx((2 + 3 + 2 + 1 + 1) / 5), 5),
        # pw_su_1..6 (5, 6 reversed): n/a, 2, 3, 4, 5 -> 1, 1 -> 5
        "support": (pytest.approx((2 + 3 + 4 + 1 + 5) / 5), 5),
        "equality": (None, 1), "empowerment": (None, 1), "role_clarity": (None, 1),
        "peer_practice": (None, 1), "starting_out": (None, 1),
    }
    invitation = db.get(m.Invitation, link.invitation.id)
    assert invitation is not None and invitation.status == m.InvitationStatus.COMPLETED
    assert len(db.scalars(select(m.Response)).all()) == 1


def test_keyboard_alone_completes_a_page(db: Session, page: Any, live_server: str) -> None:
    link = make_link(db)
    page.goto(f"{live_server}{link.url}/page/1")

    def tab_to(predicate: str, limit: int = 40) -> None:
        for _ in range(limit):
            page.keyboard.press("Tab")
            if page.evaluate(f"(() => {{ const e = document.activeElement; return {predicate}; }})()"):
                return
        raise AssertionError(f"Tab never reached an element where {predicate}")

    tab_to("e.name === 'pw_id_1'")
    page.keyboard.press("Space")  # Strongly disagree (1)
    page.keyboard.press("ArrowDown")  # Disagree (2)
    tab_to("e.name === 'pw_id_2'", limit=2)
    page.keyboard.press("Space")
    for _ in range(3):
        page.keyboard.press("ArrowRight")  # on to Agree (4)
    tab_to("e.tagName === 'BUTTON' && e.type === 'submit'")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith("/page/2")
    assert stored_answers(db, link.invitation) == {"pw_id_1": 2, "pw_id_2": 4}


def test_other_respondent_pages_are_accessible(db: Session, page: Any, live_server: str) -> None:
    link = make_link(db)
    page.goto(f"{live_server}{link.url}/withdraw")
    check_accessible(page, "withdrawal")
    submit(page)
    check_accessible(page, "withdrawal with a validation error")
    page.get_by_label("Keep them", exact=False).check()
    submit(page)
    assert page.get_by_role("heading", name="You have left the study").is_visible()
    check_accessible(page, "withdrawal confirmed")
    page.goto(f"{live_server}{link.url}")
    assert page.get_by_role("heading", name="This link does not work").is_visible()
    check_accessible(page, "invalid link")

    # A tampered form, sent from the browser: the plain 400 page, and nothing stored.
    other = make_link(db)
    page.goto(f"{live_server}{other.url}/page/1")
    page.locator('input[name="pw_id_1"][value="5"]').evaluate("e => { e.value = '9'; e.checked = true; }")
    with page.expect_navigation():
        page.locator("main form .actions button[type=submit]").click()
    assert page.get_by_role("heading", name="Something in that request was not right").is_visible()
    check_accessible(page, "bad request (tampered form)")
    assert stored_answers(db, other.invitation) == {}


def test_axe_does_find_violations(db: Session, page: Any, live_server: str) -> None:
    """The zero counts above are real: axe reports a broken page under the same CSP."""
    link = make_link(db)
    page.goto(f"{live_server}{link.url}/page/1")
    page.evaluate(
        "() => { const i = document.createElement('input'); i.type = 'text';"
        " document.querySelector('main').append(i);"
        " document.querySelector('legend').remove(); }"
    )
    results = AXE.run(page, options=AXE_OPTIONS)
    assert results.violations_count >= 1
    assert "label" in results.generate_snapshot()


def test_declining_page_is_accessible(db: Session, page: Any, live_server: str) -> None:
    link = make_link(db, participant=f.ParticipantFactory())
    page.goto(f"{live_server}{link.url}")
    page.get_by_label("No, I do not want to take part").check()
    submit(page)
    assert page.get_by_role("heading", name="Thank you").is_visible()
    check_accessible(page, "consent declined")


def test_stop_text_messages_page_is_accessible(db: Session, page: Any, live_server: str) -> None:
    link = make_link(db)
    participant = link.invitation.participant
    assert participant.contact is not None
    participant.contact.mobile, participant.contact.channel = "+447911123456", m.Channel.BOTH
    db.commit()
    page.goto(f"{live_server}{link.url}")
    with page.expect_navigation():
        page.get_by_role("link", name="Stop text messages").click()
    assert page.get_by_role("heading", name="Text messages").is_visible()
    check_accessible(page, "text messages")
    submit(page)
    assert page.get_by_text("we will not send you any more text messages").is_visible()
    check_accessible(page, "text messages stopped")
    db.expire_all()
    assert participant.sms_opted_out_at is not None


def test_stop_emails_page_is_accessible(db: Session, page: Any, live_server: str) -> None:
    link = make_link(db)
    participant = link.invitation.participant
    db.commit()
    page.goto(f"{live_server}{link.url}")
    with page.expect_navigation():
        page.get_by_role("link", name="Stop emails").click()
    assert page.get_by_role("heading", name="Emails").is_visible()
    check_accessible(page, "emails")
    submit(page)
    assert page.get_by_text("we will not send you any more emails about this study").is_visible()
    check_accessible(page, "emails stopped")
    db.expire_all()
    assert participant.email_opted_out_at is not None and participant.is_active


def test_remind_me_later_page_is_accessible_and_works_by_keyboard(
    db: Session, page: Any, live_server: str
) -> None:
    link = make_link(db)
    invitation = link.invitation
    db.commit()
    page.goto(f"{live_server}{link.url}")
    with page.expect_navigation():
        page.get_by_role("link", name="Remind me later").click()
    assert page.get_by_role("heading", name="Remind me later").is_visible()
    check_accessible(page, "remind me later")
    submit(page)  # nothing chosen: the error summary
    assert page.get_by_text("Choose when we should remind you.").first.is_visible()
    check_accessible(page, "remind me later, nothing chosen")
    page.get_by_label("Tomorrow").focus()
    page.keyboard.press("Space")
    hour = page.get_by_label("At what time?")
    assert hour.input_value() == ""  # "Any time" until a time is chosen
    hour.focus()
    page.keyboard.press("ArrowDown")  # the first sending hour
    assert hour.input_value() != ""
    page.get_by_role("button", name="Set the reminder").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.get_by_text("we will send you one reminder on").is_visible()
    check_accessible(page, "remind me later, set")
    db.expire_all()
    assert invitation.remind_at is not None
