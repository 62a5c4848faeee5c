"""Long staff lists a page at a time: participants (100 a page) and failed messages (50 a page)."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from survey import models as m
from survey.admin.paging import Page
from tests import factories as f


@pytest.mark.parametrize(("number", "pages", "shown"), [
    (1, 1, [1]),
    (1, 3, [1, 2, 3]),
    (1, 9, [1, 2, 3, None, 9]),
    (5, 9, [1, None, 3, 4, 5, 6, 7, None, 9]),
    (4, 9, [1, 2, 3, 4, 5, 6, None, 9]),
    (9, 9, [1, None, 7, 8, 9]),
])
def test_page_numbers_keep_the_first_last_and_nearby_pages(
        number: int, pages: int, shown: list[int | None]) -> None:
    page = Page(number, 10, pages * 10)
    assert page.pages == pages and page.numbers() == shown


def test_an_empty_list_is_one_empty_page() -> None:
    page = Page(1, 50, 0)
    assert (page.pages, page.offset, page.first_row, page.last_row) == (1, 0, 0, 0)


def test_participants_are_listed_100_a_page_each_once(client: FlaskClient, db: Session,
                                                      admin: m.User) -> None:
    study = f.StudyFactory(code="big")
    team = f.TeamFactory()
    codes = [f"P{n:04d}" for n in range(205)]
    for code in codes:
        f.ParticipantFactory(study=study, team=team, code=code)
    db.commit()
    seen = []
    for number in (1, 2, 3):
        page = client.get(f"/admin/studies/big/participants?page={number}").get_data(as_text=True)
        seen += re.findall(r'<th scope="row">(P\d{4})</th>', page)
        assert f"page {number} of 3" in page
        assert f'href="/admin/studies/big/participants?page={number}" aria-current="page"' in page
    assert seen == codes  # every participant once, in order
    last = client.get("/admin/studies/big/participants?page=3").get_data(as_text=True)
    assert "Showing 201 to 205 of 205 participants" in last
    assert 'rel="prev"' in last and 'rel="next"' not in last
    assert '<nav class="pagination" aria-label="Pages of participants">' in last


def test_failed_messages_are_listed_50_a_page(client: FlaskClient, db: Session, admin: m.User) -> None:
    db.add_all([m.OutboxMessage(dedupe_key=f"k{n}", kind="invite", recipient=f"p{n}@example.org",
                                subject="s", body_text="b", status=m.OutboxStatus.FAILED, attempts=1,
                                last_error=f"error number {n:03d}") for n in range(60)])
    db.commit()
    first = client.get("/admin/outbox").get_data(as_text=True)
    errors = re.findall(r"<td>error number (\d{3})</td>", first)
    assert errors == [f"{n:03d}" for n in range(59, 9, -1)]  # newest first
    assert "Showing 1 to 50 of 60 failed messages" in first and "p59@example.org" not in first
    second = client.get("/admin/outbox?page=2").get_data(as_text=True)
    assert re.findall(r"<td>error number (\d{3})</td>", second) == [f"{n:03d}" for n in range(9, -1, -1)]
    # Fewer than a page: no pagination at all.
    db.query(m.OutboxMessage).filter(m.OutboxMessage.attempts == 1).delete()
    db.commit()
    assert "pagination" not in client.get("/admin/outbox").get_data(as_text=True)
