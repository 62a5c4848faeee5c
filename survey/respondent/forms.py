"""Respondent forms: the consent and withdrawal forms, and survey pages built from an instrument."""

from __future__ import annotations

from typing import Any

from flask import abort, request
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectChoice
from wtforms.validators import InputRequired, Optional

from instruments import Instrument, Page

NOT_APPLICABLE = "na"  # the form value of "Does not apply", stored as None


class ConsentForm(FlaskForm):
    """Take part or not."""

    decision = RadioField(
        "Do you agree to take part?",
        choices=[
            SelectChoice("yes", "Yes, I agree to take part"),
            SelectChoice("no", "No, I do not want to take part"),
        ],
        validators=[InputRequired(message="Choose yes or no to continue.")],
    )


class WithdrawForm(FlaskForm):
    """Keep or delete the answers already given."""

    keep = RadioField(
        "What should happen to the answers you have already given?",
        choices=[
            SelectChoice(
                "keep", "Keep them: they may still be used, without your name, in the study's results"
            ),
            SelectChoice("delete", "Delete them: remove all my answers and scores"),
        ],
        validators=[InputRequired(message="Choose whether to keep or delete your answers.")],
    )


def page_form_class(instrument: Instrument, page: Page) -> type[FlaskForm]:
    """A form class with one optional radio group per item of the page."""
    choices = [SelectChoice(str(option.value), option.label) for option in instrument.response_options]
    if instrument.not_applicable_label:
        choices.append(SelectChoice(NOT_APPLICABLE, instrument.not_applicable_label))
    fields: dict[str, Any] = {
        item.id: RadioField(
            item.text, choices=choices, validators=[Optional()], description=item.help or ""
        )
        for item in page.items
    }
    return type(f"{instrument.id}_v{instrument.version}_{page.id}_form", (FlaskForm,), fields)


def form_values(saved: dict[str, int | None], page: Page) -> dict[str, str]:
    """Saved answers as form values, to fill in a page shown again."""
    return {
        item.id: NOT_APPLICABLE if saved[item.id] is None else str(saved[item.id])
        for item in page.items
        if item.id in saved
    }


def page_answers(form: FlaskForm, page: Page) -> dict[str, int | None]:
    """The answers of a validated page form; skipped items are left out."""
    answers: dict[str, int | None] = {}
    for item in page.items:
        value = form[item.id].data
        if value is None or not str(value).strip():
            continue
        answers[item.id] = None if value == NOT_APPLICABLE else int(value)
    return answers


def validated_post(form: FlaskForm) -> bool:
    """Validate a posted form; tampering is a 400, a person's omission returns False.

    Tampering: another content type, a field the form does not have, a field sent twice,
    a value that is not one of the choices, or a missing or wrong CSRF token.
    """
    if request.mimetype != "application/x-www-form-urlencoded":
        abort(400)
    for key in request.form:
        values = request.form.getlist(key)
        field = form._fields.get(key)
        if field is None or len(values) > 1:
            abort(400)
        if isinstance(field, RadioField) and values[0].strip() and values[0] not in _choices(field):
            abort(400)
    if form.validate():
        return True
    if "csrf_token" in form.errors:
        abort(400)
    return False


def _choices(field: RadioField) -> set[str]:
    """The values a radio group accepts."""
    return {str(choice.value) for choice in field.iter_choices()}
