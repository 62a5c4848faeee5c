"""Respondent forms: the consent and withdrawal forms, and survey pages built from an instrument."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import abort, request
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectChoice
from wtforms.validators import InputRequired, Optional

from instruments import Instrument, Page
from survey.respondent.markup import NOT_APPLICABLE, RadioGroup

# Page assets are built once per instrument version and page; a few instruments, a few pages.
_MAX_CACHED_PAGES = 256


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


def page_choices(instrument: Instrument) -> list[tuple[str, str]]:
    """The answers every item offers, as (form value, label): the scale, then "does not apply"."""
    choices = [(str(option.value), option.label) for option in instrument.response_options]
    if instrument.not_applicable_label:
        choices.append((NOT_APPLICABLE, instrument.not_applicable_label))
    return choices


def page_form_class(instrument: Instrument, page: Page) -> type[FlaskForm]:
    """A form class with one optional radio group per item of the page (it validates posts)."""
    choices = [SelectChoice(value, label) for value, label in page_choices(instrument)]
    fields: dict[str, Any] = {
        item.id: RadioField(
            item.text, choices=choices, validators=[Optional()], description=item.help or ""
        )
        for item in page.items
    }
    return type(f"{instrument.id}_v{instrument.version}_{page.id}_form", (FlaskForm,), fields)


@dataclass(frozen=True)
class PageAssets:
    """What never changes on a page: the form class that validates it and its radio groups."""

    form_class: type[FlaskForm]
    groups: tuple[RadioGroup, ...]


_assets: dict[tuple[str, int, str, str], PageAssets] = {}


def page_assets(instrument: Instrument, page: Page) -> PageAssets:
    """A page's assets, built on first use and kept per instrument id, version, hash and page."""
    key = (instrument.id, instrument.version, instrument.content_hash, page.id)
    assets = _assets.get(key)
    if assets is None:
        choices = page_choices(instrument)
        groups = tuple(
            RadioGroup.build(item.id, item.text, choices, hint=item.help or "") for item in page.items
        )
        assets = PageAssets(page_form_class(instrument, page), groups)
        if len(_assets) >= _MAX_CACHED_PAGES:
            _assets.clear()
        # Two requests may build the same assets at once; either result is the same.
        _assets[key] = assets
    return assets


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
