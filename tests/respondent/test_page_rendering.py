"""Survey pages rendered from pre-built markup: same meaning as WTForms, few queries, no leaks."""

from __future__ import annotations

from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event
from sqlalchemy.orm import Session

from instruments import load_instrument
from survey.db import get_engine
from survey.respondent.forms import page_assets, page_form_class
from survey.respondent.markup import RadioGroup, render_groups
from tests.respondent.conftest import PersonalLink, make_link, post_form

PEER = load_instrument("peer_worker", 1)
PAGES = PEER.pages(first_wave=True)


class _Inputs(HTMLParser):
    """The attributes of every <input>, and the text of every <label> and <legend>, in order."""

    def __init__(self) -> None:
        super().__init__()
        self.inputs: list[dict[str, str | None]] = []
        self.texts: list[str] = []
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "input":
            self.inputs.append(dict(attrs))
        if tag in ("legend", "span"):
            self._in = tag

    def handle_endtag(self, tag: str) -> None:
        if tag == self._in:
            self._in = None

    def handle_data(self, data: str) -> None:
        if self._in and data.strip():
            self.texts.append(data.strip())


def _parsed(html: str) -> _Inputs:
    parser = _Inputs()
    parser.feed(html)
    return parser


@pytest.mark.parametrize("page", PAGES, ids=[p.id for p in PAGES])
def test_prebuilt_groups_match_the_wtforms_widgets(app: Flask, page: Any) -> None:
    """Every input (id, name, type, value, checked), legend and label is what WTForms renders."""
    values = {item.id: ("na" if n % 3 == 0 else str(1 + n % 5)) for n, item in enumerate(page.items) if n % 4}
    with app.test_request_context():
        form = page_form_class(PEER, page)(formdata=None, data=values)
        wtforms = "".join(
            f"<legend>{form[item.id].label.text}</legend>"
            + "".join(f"{option()}<span>{option.label.text}</span>" for option in form[item.id])
            for item in page.items
        )
    ours = render_groups(page_assets(PEER, page).groups, values)
    expected, got = _parsed(wtforms), _parsed(str(ours))
    assert got.texts == expected.texts
    assert len(got.inputs) == len(page.items) * 6
    assert got.inputs == expected.inputs
    assert sum("checked" in i for i in got.inputs) == len(values)


def test_a_group_shows_its_error_tied_to_the_fieldset_with_its_hint() -> None:
    group = RadioGroup.build("q1", "Question <one>", [("1", "Yes"), ("na", "Does not apply")],
                             hint="A hint & more")
    html = group.html("na", ["Choose one.", "Really."])
    assert '<fieldset class="likert field-error" id="q1" aria-describedby="q1-hint q1-error">' in html
    assert '<p class="error-text" id="q1-error">Error: Choose one. Really.</p>' in html
    assert '<p class="hint" id="q1-hint">A hint &amp; more</p>' in html
    assert "<legend>Question &lt;one&gt;</legend>" in html
    assert '<li class="option-na"><label><input id="q1-1" name="q1" type="radio" value="na" checked>' in html
    plain = group.html()
    assert 'aria-describedby="q1-hint"' in plain and "error" not in plain and "checked" not in plain


def test_a_page_shown_with_errors_has_a_summary_and_marked_questions(app: Flask) -> None:
    from flask import render_template

    page = PAGES[0]
    first = page.items[0].id
    with app.test_request_context():
        questions = render_groups(page_assets(PEER, page).groups, {}, {first: ["Choose an answer."]})
        html = render_template(
            "respondent/page.html", token="t", instrument_title=PEER.title, page=page, number=1,
            total=len(PAGES), questions=questions, errors={first: ["Choose an answer."]},
        )
    assert html.count('role="alert"') == 1 and f'href="#{first}-0"' in html
    assert f'id="{first}" aria-describedby="{first}-error"' in html
    assert "<title>Error: " in html


@pytest.fixture
def statements(app: Flask) -> Iterator[list[str]]:
    """The SQL statements the app sends while the test runs (transaction control left out)."""
    sent: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not statement.lstrip().upper().startswith(("BEGIN", "SAVEPOINT", "RELEASE", "ROLLBACK", "COMMIT")):
            sent.append(statement)

    engine = get_engine(app)
    event.listen(engine, "before_cursor_execute", record)
    yield sent
    event.remove(engine, "before_cursor_execute", record)


def test_showing_a_page_reads_its_data_in_two_queries(
    client: FlaskClient, link: PersonalLink, statements: list[str]
) -> None:
    post_form(client, f"{link.url}/page/1", {"pw_id_1": "4", "pw_id_2": "na"})
    post_form(client, f"{link.url}/page/2", {"pw_su_1": "2"})
    for number in (1, 2, 3):
        statements.clear()
        assert client.get(f"{link.url}/page/{number}").status_code == 200
        # The link, consent, response, answers and the participant's language in one query;
        # the pinned instrument comes from the cache the two saves filled.
        assert len(statements) == 1, statements
        assert all(s.lstrip().upper().startswith("SELECT") for s in statements), statements


def test_cached_pages_fill_in_each_persons_own_answers(
    db: Session, client: FlaskClient, link: PersonalLink
) -> None:
    other = make_link(db)
    post_form(client, f"{link.url}/page/1", {"pw_id_1": "4", "pw_id_2": "na"})
    post_form(client, f"{other.url}/page/1", {"pw_id_1": "2", "pw_id_3": "5"})
    for _ in range(2):  # the second time, the page's markup comes from the cache
        mine = _parsed(client.get(f"{link.url}/page/1").get_data(as_text=True)).inputs
        theirs = _parsed(client.get(f"{other.url}/page/1").get_data(as_text=True)).inputs
        assert {(i["name"], i["value"]) for i in mine if "checked" in i} == {("pw_id_1", "4"), ("pw_id_2", "na")}
        assert {(i["name"], i["value"]) for i in theirs if "checked" in i} == {("pw_id_1", "2"), ("pw_id_3", "5")}
    fresh = _parsed(client.get(f"{make_link(db).url}/page/1").get_data(as_text=True)).inputs
    assert not any("checked" in i for i in fresh)


def test_the_page_carries_a_working_csrf_token(make_app: Any) -> None:
    from tests.respondent.conftest import csrf_token, link_in

    app = make_app(WTF_CSRF_ENABLED=True)
    link = link_in(app)
    client = app.test_client()
    token = csrf_token(client, f"{link.url}/page/1")
    assert post_form(client, f"{link.url}/page/1", {"pw_id_1": "3", "csrf_token": token}).status_code == 303
