"""A respondent answering through real HTTP (cookies, CSRF token and all), and database checks."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

import requests
from flask import Flask
from sqlalchemy import func, select

from instruments import load_instrument
from survey import models as m
from survey.db import get_sessionmaker
from survey.services.tokens import hash_token

PEER = load_instrument("peer_worker", 1)
PAGES = PEER.pages(first_wave=True)
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
PAGE_NUMBER = re.compile(r"/page/(\d+)$")


def page_answers(number: int) -> dict[str, str]:
    """Every item of a page answered (a value that depends on the item, so mix-ups show)."""
    return {item.id: str(1 + len(item.id) % 5) for item in PAGES[number - 1].items}


@dataclass
class Respondent:
    """One person with a personal link, answering page by page on their own cookie jar."""

    base_urls: list[str]  # app servers, used in turn (no sticky sessions needed)
    token: str
    http: requests.Session = field(default_factory=requests.Session)
    timeout: float = 60
    _turn: int = 0

    @property
    def base_url(self) -> str:
        """The next app server to ask."""
        self._turn += 1
        return self.base_urls[self._turn % len(self.base_urls)]

    def next_page(self) -> int | None:
        """The page the link leads to now (None once thanked)."""
        response = self.http.get(f"{self.base_url}/r/{self.token}", allow_redirects=False, timeout=self.timeout)
        location = response.headers.get("Location", "")
        if location.endswith("/thanks"):
            return None
        if response.status_code == 303 and (match := PAGE_NUMBER.search(location)):
            return int(match.group(1))
        raise AssertionError(f"link answered {response.status_code} {location!r}")

    def send_page(self, number: int) -> str:
        """Fetch a page (for its CSRF token) and send it answered; returns where it redirects."""
        path = f"/r/{self.token}/page/{number}"
        shown = self.http.get(self.base_url + path, timeout=self.timeout)
        assert shown.status_code == 200, f"page {number}: {shown.status_code}"
        match = CSRF.search(shown.text)
        assert match, "no CSRF token on the page"
        data = {"csrf_token": match.group(1), **page_answers(number)}
        sent = self.http.post(self.base_url + path, data=data, allow_redirects=False, timeout=self.timeout)
        assert sent.status_code == 303, f"page {number} sent: {sent.status_code}"
        return sent.headers["Location"]

    def finish(self) -> None:
        """Answer every page still unsaved, whatever happened before."""
        while (number := self.next_page()) is not None:
            self.send_page(number)


def answers_by_token(app: Flask, tokens: list[str]) -> dict[str, Counter[str]]:
    """How many stored answers each link has per item (read straight from the database)."""
    hashes = {hash_token(t): t for t in tokens}
    counts: dict[str, Counter[str]] = {t: Counter() for t in tokens}
    with get_sessionmaker(app)() as session:
        rows = session.execute(
            select(m.LinkToken.token_hash, m.Answer.item_id)
            .join(m.Invitation, m.Invitation.id == m.LinkToken.invitation_id)
            .join(m.Response, m.Response.invitation_id == m.Invitation.id)
            .join(m.Answer, m.Answer.response_id == m.Response.id)
            .where(m.LinkToken.token_hash.in_(hashes))
        ).all()
    for token_hash, item_id in rows:
        counts[hashes[token_hash]][item_id] += 1
    return counts


def assert_pages_whole(counts: dict[str, Counter[str]]) -> int:
    """Every page of every link stored whole or not at all, each answer once; returns pages stored."""
    stored = 0
    for token, items in counts.items():
        assert all(n == 1 for n in items.values()), f"{token[:6]}…: an answer stored twice"
        for number, page in enumerate(PAGES, start=1):
            present = sum(item.id in items for item in page.items)
            assert present in (0, len(page.items)), f"{token[:6]}…: page {number} half stored"
            stored += present > 0
    return stored


def assert_all_complete(app: Flask, tokens: list[str]) -> None:
    """Every link's survey complete: all answers once, one response, scores written."""
    counts = answers_by_token(app, tokens)
    expected = {item.id for page in PAGES for item in page.items}
    for token, items in counts.items():
        assert set(items) == expected and set(items.values()) == {1}, f"{token[:6]}…: answers not whole"
    with get_sessionmaker(app)() as session:
        hashes = [hash_token(t) for t in tokens]
        invitations = session.scalars(
            select(m.Invitation).join(m.LinkToken).where(m.LinkToken.token_hash.in_(hashes))
        ).all()
        assert len(invitations) == len(tokens)
        assert {i.status for i in invitations} == {m.InvitationStatus.COMPLETED}
        ids = [i.id for i in invitations]
        responses = session.scalar(select(func.count()).select_from(m.Response).where(m.Response.invitation_id.in_(ids)))
        submitted = session.scalar(
            select(func.count()).select_from(m.Response)
            .where(m.Response.invitation_id.in_(ids), m.Response.submitted_at.is_not(None))
        )
        scored = session.scalar(
            select(func.count(func.distinct(m.ScaleScore.response_id)))
            .join(m.Response).where(m.Response.invitation_id.in_(ids))
        )
        assert responses == submitted == scored == len(tokens)
