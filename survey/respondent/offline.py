"""Offline-tolerant pages: the pages a survey page carries for answering while offline, and
the revision a page form posts back.

When "Save and continue" cannot reach the server, static/offline.js keeps the page's answers
in the browser (localStorage, keyed by the link and page) and, where it can, shows the next
page from the inert <template> copies rendered here (fetched by the script when a page loads,
so that pages without JavaScript are as they were), so a person can go on answering. The
copies are sent, in page order, once the connection returns; each carries the revision its
page was shown at, so the server stores it once and never over a newer save.

Only pages with no conditional question are carried: whether those are asked depends on
answers the server has not seen yet, and the server decides that. The first such page, the
last page or a page that cannot be carried ends the run.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from flask import abort, render_template, request, url_for
from markupsafe import Markup

from instruments.answers import AnswerValue
from survey.db import get_session, writes_on_get
from survey.i18n import current_language
from survey.respondent import bp
from survey.respondent.forms import REVISION_FIELD, form_values, ordered_groups
from survey.respondent.links import token_route
from survey.respondent.markup import render_groups
from survey.services import respondent
from survey.services.responses import Questionnaire, in_language
from survey.web import commit_after

# A revision is a count of saves: a few digits. Anything longer is not one of ours.
_MAX_REVISION_DIGITS = 9


@dataclass(frozen=True)
class AheadPage:
    """A later page as the page script shows it offline: its address, words and questions."""

    number: int
    action: str
    title: str
    intro: str | None
    revision: int
    questions: Markup


def ahead_pages(
    token: str, plan: Questionnaire, number: int, answers: Mapping[str, AnswerValue],
    revisions: Mapping[str, int] | None,
) -> list[AheadPage]:
    """The pages after `number` that can be answered offline, up to the first that has a
    conditional question (saved answers filled in, as when the page is shown)."""
    pages = []
    for later in range(number + 1, plan.total + 1):
        page = plan.page(later)
        if any(item.show_if is not None for item in page.items):
            break
        questions = render_groups(ordered_groups(plan.instrument, page), form_values(answers, page))
        pages.append(AheadPage(
            later, url_for("respondent.page", token=token, number=later), page.title, page.intro,
            int((revisions or {}).get(page.id, 0)), questions,
        ))
    return pages


def posted_revision() -> int | None:
    """The revision a page form was shown at (None: a form without one, stored as before).

    Anything but a whole number is a 400 that names the field.
    """
    raw = request.form.get(REVISION_FIELD, "").strip()
    if not raw:
        return None
    if not (raw.isascii() and raw.isdigit()) or len(raw) > _MAX_REVISION_DIGITS:
        abort(400, description=f"{REVISION_FIELD} must be a whole number of at most "
                               f"{_MAX_REVISION_DIGITS} digits; reload the page and try again.")
    return int(raw)


@bp.route("/<token>/page/<int:number>/ahead")
@writes_on_get  # as the page itself: a first visit starts the response
@token_route
def offline_pages(token: str, number: int) -> tuple[str, int]:
    """The pages after page `number` that can be answered offline, as inert templates
    (204, nothing, where the page is not the person's to answer now)."""
    db = get_session()
    shown = commit_after(lambda: respondent.show_page(db, token, number))
    if isinstance(shown, respondent.Goto):
        return "", 204
    plan = in_language(shown.plan, current_language())
    pages = ahead_pages(token, plan, number, shown.answers, shown.revisions)
    return render_template("respondent/_offline_pages.html", ahead=pages, total=plan.total,
                           one_question=shown.page.part_of is not None), 200
