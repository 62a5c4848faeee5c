"""Questionnaire pages: shown with earlier answers filled in, saved on every post."""

from __future__ import annotations

from collections.abc import Mapping

from flask import abort, render_template, request, url_for
from flask_babel import gettext
from markupsafe import Markup
from werkzeug.wrappers import Response as WerkzeugResponse

from instruments import Instrument, Page
from instruments.answers import AnswerValue
from instruments.translations import localised
from survey.db import get_session, writes_on_get
from survey.i18n import current_language
from survey.respondent import bp
from survey.respondent.forms import (
    PageErrors,
    form_values,
    ordered_groups,
    page_answers,
    page_assets,
    validated_post,
)
from survey.respondent.language import SWITCH_FIELD, switch_language
from survey.respondent.links import follow, token_route
from survey.respondent.markup import render_groups
from survey.respondent.offline import posted_revision
from survey.services import respondent
from survey.services.errors import InputError
from survey.services.responses import in_language, worded_page
from survey.web import commit_after


def _posted_answers(instrument: Instrument, page: Page) -> Mapping[str, AnswerValue]:
    """The posted page, validated by its form: tampering is a 400 (every item is optional).

    A number or text a person got wrong raises PageErrors: nothing is stored.
    """
    worded = localised(instrument, current_language())  # a person's errors in their language
    page = worded_page(worded, page) if worded is not instrument else page
    form = page_assets(worded, page).form_class()
    validated_post(form)
    return page_answers(form, page)


@bp.route("/<token>/page/<int:number>", methods=["GET", "POST"])
@writes_on_get  # the first visit starts the response
@token_route
def page(token: str, number: int) -> str | WerkzeugResponse:
    """Show one page, or store it (completing on the last page) and go on."""
    db = get_session()
    errors: dict[str, list[str]] = {}
    posted: dict[str, str] | None = None
    if request.method == "POST" and SWITCH_FIELD in request.form:
        # The language switch: shown again in the new language with every answer as typed
        # (kept, not yet saved: "Save and continue" saves them, as on any page).
        posted = switch_language(token, request.form[SWITCH_FIELD])
    elif request.method == "POST":
        try:
            revision = posted_revision()
            goto = commit_after(lambda: respondent.save_page(
                db, token, number, _posted_answers, revision=revision))
        except InputError:
            abort(400)
        except PageErrors as wrong:  # shown again with every answer as typed, nothing saved
            errors, posted = wrong.errors, wrong.values
        else:
            return follow(token, goto)
    # The first visit starts the response, so showing a page may write too.
    shown = commit_after(lambda: respondent.show_page(db, token, number))
    if isinstance(shown, respondent.Goto):
        return follow(token, shown)
    plan = in_language(shown.plan, current_language())
    current = plan.page(number)
    values = posted if posted is not None else form_values(shown.answers, current)
    left_out, reveal = _conditions(current, shown.answers, shown.role)
    groups = ordered_groups(plan.instrument, current)
    questions = render_groups(groups, values, errors, reveal, left_out, _support_beside(token, current))
    return render_template(
        "respondent/page.html", token=token, instrument_title=plan.instrument.title,
        page=current, number=number, total=plan.total, questions=questions, errors=errors,
        content_language=plan.instrument.language, back=shown.back,
        reveal_script=bool(reveal), one_question=current.part_of is not None,
        revision=shown.revision(number),
    )


def _support_beside(token: str, page: Page) -> dict[str, str]:
    """The support link beside each question of the page marked sensitive."""
    marked = [item.id for item in page.items if item.sensitive]
    if not marked:
        return {}
    link = Markup('<p class="support-beside"><a href="{}">{}</a></p>\n').format(
        url_for("respondent.support", token=token),
        gettext("If this question brings up something difficult, here is where to get support"))
    return dict.fromkeys(marked, str(link))


def _conditions(page: Page, saved: Mapping[str, AnswerValue], role: str | None
                ) -> tuple[set[str], dict[str, str]]:
    """The page's questions that earlier pages' answers hide, and those whose condition
    waits on answers on this page (with that part of the condition, as JSON)."""
    on_page = {item.id for item in page.items}
    earlier = {k: v for k, v in saved.items() if k not in on_page}
    left_out: set[str] = set()
    reveal: dict[str, str] = {}
    for item in page.items:
        if item.show_if is None:
            continue
        decided = item.show_if.partial(earlier, on_page, role)
        if decided is False:
            left_out.add(item.id)
        elif decided is not True:
            reveal[item.id] = decided.to_attribute()
    return left_out, reveal
