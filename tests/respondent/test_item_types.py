"""Choice, number and free-text questions: rendered accessibly, validated, saved and resumed."""

from __future__ import annotations

import re

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from instruments import load_instrument
from survey import models as m
from tests.respondent.conftest import PersonalLink, post_form, see_committed, v2_link

PEER2 = load_instrument("peer_worker", 2)
PAGES = [p.id for p in PEER2.pages(first_wave=True)]
BACKGROUND = PAGES.index("about_your_job") + 1
OWN_WORDS = PAGES.index("in_your_words") + 1


def skip_to(client: FlaskClient, link: PersonalLink, number: int) -> None:
    """Save every page before `number` with nothing answered."""
    for page in range(1, number):
        assert post_form(client, f"{link.url}/page/{page}").status_code == 303


def typed_answers(db: Session, link: PersonalLink) -> dict[str, tuple[int | None, float | None, str | None]]:
    see_committed(db)
    rows = db.execute(
        select(m.Answer.item_id, m.Answer.value, m.Answer.value_number, m.Answer.value_text)
        .join(m.Response).where(m.Response.invitation_id == link.invitation.id)
    ).all()
    return {item: (value, number, text) for item, value, number, text in rows}


def test_background_page_renders_each_type_with_its_hints(db: Session, client: FlaskClient) -> None:
    link = v2_link(db)
    skip_to(client, link, BACKGROUND)
    html = client.get(f"{link.url}/page/{BACKGROUND}").get_data(as_text=True)
    # Choice: a radio fieldset with the item's own options, no "does not apply".
    assert "<legend>How many hours a week does your contract say you work?</legend>" in html
    assert html.count('name="pw_bg_band" type="radio"') == 8
    assert 'name="pw_bg_band" type="radio" value="na"' not in html
    # Number: a labelled text box, numeric keyboard, with its help and range as hints.
    assert '<label class="question-label" for="pw_bg_peers-0">' in html
    assert re.search(r'<input id="pw_bg_peers-0" name="pw_bg_peers" type="text" inputmode="numeric"'
                     r'[^>]*aria-describedby="pw_bg_peers-hint pw_bg_peers-range"', html)
    assert "A whole number from 0 to 50 (peer workers)." in html


def test_free_text_has_its_notice_and_limit_tied_to_the_box(db: Session, client: FlaskClient) -> None:
    link = v2_link(db)
    skip_to(client, link, OWN_WORDS)
    html = client.get(f"{link.url}/page/{OWN_WORDS}").get_data(as_text=True)
    assert '<label class="question-label" for="pw_open-0">What one thing would make the peer ' \
           'worker role work better in your team?</label>' in html
    assert re.search(r'<p class="hint" id="pw_open-hint">Please do not name anyone', html)
    assert re.search(r'<textarea id="pw_open-0" name="pw_open" rows="5" maxlength="1000" '
                     r'aria-describedby="pw_open-hint pw_open-length">', html)
    assert "You can write up to 1000 characters." in html


def test_typed_answers_are_saved_and_shown_again(db: Session, client: FlaskClient) -> None:
    link = v2_link(db)
    skip_to(client, link, BACKGROUND)
    response = post_form(client, f"{link.url}/page/{BACKGROUND}",
                         {"pw_bg_hours": "2", "pw_bg_band": "3", "pw_bg_peers": " 3 "})
    assert response.status_code == 303
    assert typed_answers(db, link) == {"pw_bg_hours": (2, None, None), "pw_bg_band": (3, None, None),
                                       "pw_bg_peers": (None, 3.0, None)}
    # Resume: the saved answers are filled in.
    html = client.get(f"{link.url}/page/{BACKGROUND}").get_data(as_text=True)
    assert 'name="pw_bg_hours" type="radio" value="2" checked' in html
    assert re.search(r'name="pw_bg_peers"[^>]* value="3">', html)
    # Answering again replaces; leaving blank removes.
    post_form(client, f"{link.url}/page/{BACKGROUND}", {"pw_bg_hours": "3", "pw_bg_band": "3"})
    assert typed_answers(db, link)["pw_bg_hours"] == (3, None, None)
    assert "pw_bg_peers" not in typed_answers(db, link)
    # Free text is kept as written (line breaks as \n) and shown again escaped.
    note = "More time in team meetings <b>&</b> \"training\".\r\nSecond line."
    shown = post_form(client, f"{link.url}/page/{OWN_WORDS}", {"pw_open": note + "x" * 1000})
    assert "&lt;b&gt;&amp;&lt;/b&gt; &#34;training&#34;." in shown.get_data(as_text=True)
    assert post_form(client, f"{link.url}/page/{OWN_WORDS}", {"pw_open": note}).status_code == 303
    assert typed_answers(db, link)["pw_open"] == (None, None, note.replace("\r\n", "\n"))
    # The completed response is scored on its Likert scales only.
    response_row = db.scalar(select(m.Response).where(m.Response.invitation_id == link.invitation.id))
    assert response_row is not None and response_row.submitted_at is not None
    assert {s.scale for s in response_row.scores} == set(PEER2.scales)


def test_a_wrong_number_shows_the_page_again_with_the_other_answers(
    db: Session, client: FlaskClient
) -> None:
    link = v2_link(db)
    skip_to(client, link, BACKGROUND)
    for typed, message in (("51", "51 is outside this range"), ("three", "using digits"),
                           ("2.5", "without a decimal point")):
        response = post_form(client, f"{link.url}/page/{BACKGROUND}",
                             {"pw_bg_hours": "1", "pw_bg_peers": typed})
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        assert "<title>Error: " in html and "There is a problem" in html
        assert '<a href="#pw_bg_peers-0">' in html
        assert re.search(r'<p class="error-text" id="pw_bg_peers-error">Error: Enter a whole number '
                         r'from 0 to 50 \(peer workers\)[^<]*' + re.escape(message), html)
        assert re.search(r'aria-describedby="pw_bg_peers-hint pw_bg_peers-range pw_bg_peers-error"'
                         r' aria-invalid="true" value="' + re.escape(typed) + '"', html)
        assert 'name="pw_bg_hours" type="radio" value="1" checked' in html  # kept
        assert typed_answers(db, link) == {}  # nothing stored


def test_text_over_the_limit_is_an_error_and_tampering_a_400(db: Session, client: FlaskClient) -> None:
    link = v2_link(db)
    skip_to(client, link, OWN_WORDS)
    response = post_form(client, f"{link.url}/page/{OWN_WORDS}", {"pw_open": "x" * 1001})
    assert response.status_code == 200
    assert "Your answer has 1001 characters; shorten it to 1000 or fewer." in response.get_data(as_text=True)
    skip_to(client, link, BACKGROUND)
    assert post_form(client, f"{link.url}/page/{OWN_WORDS}", {"pw_open": "a\x00b"}).status_code == 400
    for data in ({"pw_bg_band": "9"}, {"pw_bg_band": "na"}, {"pw_bg_nope": "1"}):
        assert post_form(client, f"{link.url}/page/{BACKGROUND}", data).status_code == 400
    assert typed_answers(db, link) == {}


def test_background_items_are_asked_at_baseline_only(db: Session, client: FlaskClient) -> None:
    link = v2_link(db, index=2)
    later = [p.id for p in PEER2.pages(first_wave=False)]
    html = client.get(f"{link.url}/page/1").get_data(as_text=True)
    assert f"Page 1 of {len(later)}" in html
    assert "about_your_job" not in later and later[-1] == "in_your_words"
