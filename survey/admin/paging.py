"""Long staff lists shown a page at a time: which page was asked for, and its slice of a query."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

from flask import request
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

T = TypeVar("T")


@dataclass(frozen=True)
class Page:
    """Page `number` of `pages` (1-based), `size` rows each, of `total` rows."""

    number: int
    size: int
    total: int

    @property
    def pages(self) -> int:
        """How many pages the rows fill (at least one, which may be empty)."""
        return max((self.total + self.size - 1) // self.size, 1)

    @property
    def offset(self) -> int:
        """The first row of this page."""
        return (self.number - 1) * self.size

    @property
    def first_row(self) -> int:
        """The 1-based position of this page's first row (0 when there are none)."""
        return min(self.offset + 1, self.total)

    @property
    def last_row(self) -> int:
        """The 1-based position of this page's last row."""
        return min(self.offset + self.size, self.total)

    def numbers(self, around: int = 2) -> list[int | None]:
        """The page numbers to link: the first, the last and those near this one (None: a gap)."""
        shown = sorted({1, self.pages, *range(max(self.number - around, 1),
                                              min(self.number + around, self.pages) + 1)})
        out: list[int | None] = []
        previous = 0
        for number in shown:
            if previous and number - previous > 1:
                out.append(None)
            out.append(number)
            previous = number
        return out


def requested_page() -> int:
    """The `?page=` asked for: a whole number from 1; anything else is page 1."""
    number = request.args.get("page", 1, type=int) or 1
    return max(number, 1)


def paginate(db: Session, query: Select[Any], size: int) -> tuple[list[Any], Page]:
    """The rows of the requested page of `query` (ordered by the caller) and where it sits.

    A page past the last shows the last page, so a list that shrank between two reads still
    shows rows.
    """
    total = db.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    page = Page(requested_page(), size, total)
    if page.number > page.pages:
        page = Page(page.pages, size, total)
    return list(db.scalars(query.offset(page.offset).limit(size))), page
