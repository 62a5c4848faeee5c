"""Questionnaire pages: shown with earlier answers filled in, saved on every post."""

from __future__ import annotations

from flask import redirect, render_template, request, url_for
from werkzeug.wrappers import Response as WerkzeugResponse

from survey.db import get_session, writes_on_get
from survey.models import Invitation
from survey.respondent import bp
from survey.respondent.forms import form_values, page_answers, page_assets, validated_post
from survey.respondent.links import require_open, token_route
from survey.respondent.markup import render_groups
from survey.services.responses import (
    Questionnaire,
    complete,
    find_response,
    questionnaire,
    save_page,
    saved_answers,
    start_or_resume,
)


def _to_page(token: str, number: int) -> WerkzeugResponse:
    """Redirect to a page of the questionnaire."""
    return redirect(url_for("respondent.page", token=token, number=number), 303)


@bp.route("/<token>/page/<int:number>", methods=["GET", "POST"])
@writes_on_get  # the first visit starts the response
@token_route
def page(token: str, number: int) -> str | WerkzeugResponse:
    """One page; pages after the first unsaved one are not reachable yet."""
    invitation = require_open(token)
    db = get_session()
    response = find_response(db, invitation)
    plan = questionnaire(invitation, response)
    reachable = (plan.first_unsaved(response) if response is not None else 1) or plan.total
    if not 1 <= number <= reachable:
        return _to_page(token, reachable)
    current = plan.page(number)
    assets = page_assets(plan.instrument, current)
    if request.method == "POST":
        form = assets.form_class()
        # Every item is optional: a page post fails only by tampering, a 400 inside.
        validated_post(form)
        return _save(token, invitation, plan, number, page_answers(form, current))
    if response is None:
        response = start_or_resume(db, invitation)
        db.commit()
    questions = render_groups(assets.groups, form_values(saved_answers(response), current))
    return render_template(
        "respondent/page.html", token=token, instrument_title=plan.instrument.title,
        page=current, number=number, total=plan.total, questions=questions, errors={},
    )


def _save(
    token: str, invitation: Invitation, plan: Questionnaire, number: int,
    answers: dict[str, int | None],
) -> WerkzeugResponse:
    """Store a page in one transaction (completing on the last page), then redirect."""
    db = get_session()
    response = start_or_resume(db, invitation)
    if not save_page(db, response, plan, number, answers):
        db.rollback()  # submitted meanwhile: nothing changes
        return redirect(url_for("respondent.thanks", token=token), 303)
    if number == plan.total:
        complete(db, response, plan)
        db.commit()
        return redirect(url_for("respondent.thanks", token=token), 303)
    db.commit()
    return _to_page(token, number + 1)
