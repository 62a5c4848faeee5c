"""Simultaneous requests on one link: still one response, one set of scores."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from instruments import load_instrument
from survey import models as m
from tests.respondent.conftest import PersonalLink, post_form, see_committed

PEER = load_instrument("peer_worker", 1)
TIMES = 10


def _together(app: Flask, call: Any) -> list[int]:
    """Run `call(client)` in several threads at once; their status codes."""
    with ThreadPoolExecutor(TIMES) as pool:
        return list(pool.map(lambda _: call(app.test_client()).status_code, range(TIMES)))


def _count(db: Session, model: type) -> int:
    return db.scalar(select(func.count()).select_from(model)) or 0


def test_simultaneous_first_visits_start_one_response(app: Flask, db: Session, link: PersonalLink) -> None:
    codes = _together(app, lambda c: c.get(f"{link.url}/page/1"))
    assert set(codes) == {200}
    see_committed(db)
    assert _count(db, m.Response) == 1


def test_simultaneous_final_submissions_complete_once(app: Flask, db: Session, link: PersonalLink) -> None:
    client = app.test_client()
    pages = PEER.pages(first_wave=True)
    for number in range(1, len(pages)):
        post_form(client, f"{link.url}/page/{number}", {pages[number - 1].items[0].id: "3"})
    last = f"{link.url}/page/{len(pages)}"
    codes = _together(app, lambda c: post_form(c, last, {pages[-1].items[0].id: "5"}))
    assert set(codes) == {303}
    see_committed(db)
    assert _count(db, m.Response) == 1
    assert _count(db, m.ScaleScore) == len(PEER.scales)
    assert _count(db, m.Answer) == len(pages)
