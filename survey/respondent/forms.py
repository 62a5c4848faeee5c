"""Respondent forms: the consent and withdrawal forms, and survey pages built from an instrument."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import abort, request
from flask_babel import gettext, lazy_gettext
from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Optional

from instruments import Instrument, Item, Page
from instruments.answers import AnswerValue, length_hint, normalised_text, parse_number, range_hint
from instruments.model import CHOICE, NUMBER, TEXT
from survey.respondent.markup import NOT_APPLICABLE, InputQuestion, Question, RadioGroup

# Page assets are built once per instrument version and page; a few instruments, a few pages.
_MAX_CACHED_PAGES = 256
#: The page form's hidden field holding the revision the page was shown at
#: (survey.services.responses.save_page: an older one changes nothing).
REVISION_FIELD = "page_revision"


class ConsentForm(FlaskForm):
    """Take part or not."""

    decision = RadioField(
        lazy_gettext("Do you agree to take part?"),
        choices=[
            SelectChoice("yes", lazy_gettext("Yes, I agree to take part")),
            SelectChoice("no", lazy_gettext("No, I do not want to take part")),
        ],
        validators=[InputRequired(message=lazy_gettext("Choose yes or no to continue."))],
    )


class WithdrawForm(FlaskForm):
    """Keep or delete the answers already given."""

    keep = RadioField(
        lazy_gettext("What should happen to the answers you have already given?"),
        choices=[
            SelectChoice(
                "keep",
                lazy_gettext("Keep them: they may still be used, without your name, in the study's results"),
            ),
            SelectChoice("delete", lazy_gettext("Delete them: remove all my answers and scores")),
        ],
        validators=[InputRequired(message=lazy_gettext("Choose whether to keep or delete your answers."))],
    )


def page_choices(instrument: Instrument) -> list[tuple[str, str]]:
    """The answers every item offers, as (form value, label): the scale, then "does not apply"."""
    choices = [(str(option.value), option.label) for option in instrument.response_options]
    if instrument.not_applicable_label:
        choices.append((NOT_APPLICABLE, instrument.not_applicable_label))
    return choices


def item_choices(instrument: Instrument, item: Item) -> list[tuple[str, str]]:
    """The (form value, label) pairs of a Likert or choice item."""
    if item.type == CHOICE:
        return [(str(option.value), option.label) for option in item.options]
    return page_choices(instrument)


def _field(instrument: Instrument, item: Item) -> Any:
    """The form field of one item: a radio group, or a text box for numbers and free text."""
    if item.type == NUMBER:
        return StringField(item.text, validators=[Optional()])
    if item.type == TEXT:
        return TextAreaField(item.text, validators=[Optional()])
    choices = [SelectChoice(value, label) for value, label in item_choices(instrument, item)]
    return RadioField(item.text, choices=choices, validators=[Optional()],
                      description=item.help or "")


def page_form_class(instrument: Instrument, page: Page) -> type[FlaskForm]:
    """A form class with one optional field per item of the page (it validates posts)."""
    fields: dict[str, Any] = {item.id: _field(instrument, item) for item in page.items}
    fields[REVISION_FIELD] = HiddenField(validators=[Optional()])
    return type(f"{instrument.id}_v{instrument.version}_{page.id}_form", (FlaskForm,), fields)


def _question(instrument: Instrument, item: Item) -> Question:
    """One item's pre-rendered question: radio group, number box or textarea with its hints."""
    hints = [("hint", item.help)] if item.help else []
    if item.type == NUMBER:
        assert item.number is not None
        return InputQuestion.build(
            item.id, item.text, [*hints, ("range", range_hint(item, gettext))],
            inputmode="numeric" if item.number.integer else "decimal")
    if item.type == TEXT:
        return InputQuestion.build(item.id, item.text, [*hints, ("length", length_hint(item, gettext))],
                                   textarea=True, max_length=item.max_length)
    return RadioGroup.build(item.id, item.text, item_choices(instrument, item), hint=item.help or "")


@dataclass(frozen=True)
class PageAssets:
    """What never changes on a page: the form class that validates it and its questions."""

    form_class: type[FlaskForm]
    groups: tuple[Question, ...]


_assets: dict[tuple[str, int, str, str, str], PageAssets] = {}


def page_assets(instrument: Instrument, page: Page) -> PageAssets:
    """A page's assets, built on first use and kept per instrument id, version, hash, language
    and page (the page's language is its instrument's: the UI words in it follow it too)."""
    key = (instrument.id, instrument.version, instrument.content_hash, instrument.language, page.id)
    assets = _assets.get(key)
    if assets is None:
        groups = tuple(_question(instrument, item) for item in page.items)
        assets = PageAssets(page_form_class(instrument, page), groups)
        if len(_assets) >= _MAX_CACHED_PAGES:
            _assets.clear()
        # Two requests may build the same assets at once; either result is the same.
        _assets[key] = assets
    return assets


def ordered_groups(instrument: Instrument, page: Page) -> tuple[Question, ...]:
    """A page's questions in its items' order (a randomised page: the response's own order;
    the assets are cached per page in file order)."""
    groups = page_assets(instrument, page).groups
    if not page.randomise:
        return groups
    by_name = {group.name: group for group in groups}
    return tuple(by_name[item.id] for item in page.items)


def _form_value(value: AnswerValue) -> str:
    """A saved answer as its form value."""
    if value is None:
        return NOT_APPLICABLE
    if isinstance(value, float):
        return f"{value:g}" if abs(value) < 1e15 else str(value)
    return str(value)


def form_values(saved: Mapping[str, AnswerValue], page: Page) -> dict[str, str]:
    """Saved answers as form values, to fill in a page shown again."""
    return {item.id: _form_value(saved[item.id]) for item in page.items if item.id in saved}


class PageErrors(Exception):
    """A person's answers that cannot be stored as typed (a number out of range, text too long).

    `errors` maps each field to its messages; `values` holds everything posted, so the page
    can be shown again with the other answers kept.
    """

    def __init__(self, errors: dict[str, list[str]], values: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))
        self.errors = errors
        self.values = values


def page_answers(form: FlaskForm, page: Page) -> dict[str, AnswerValue]:
    """The answers of a validated page form; skipped items are left out.

    Raises PageErrors for a number that is not one, or out of range, or text over the limit.
    """
    answers: dict[str, AnswerValue] = {}
    errors: dict[str, list[str]] = {}
    typed: dict[str, str] = {}
    for item in page.items:
        value = form[item.id].data
        if value is None or not str(value).strip():
            continue
        typed[item.id] = str(value)
        if item.type == NUMBER:
            number = parse_number(item, str(value), gettext)
            if isinstance(number, str):
                errors[item.id] = [number]
            else:
                answers[item.id] = number
        elif item.type == TEXT:
            assert item.max_length is not None
            text = normalised_text(str(value))
            if len(text) > item.max_length:
                errors[item.id] = [gettext(
                    "Your answer has %(count)s characters; shorten it to %(limit)s or fewer.",
                    count=len(text), limit=item.max_length)]
            answers[item.id] = text
        else:
            answers[item.id] = None if value == NOT_APPLICABLE else int(value)
    if errors:
        raise PageErrors(errors, typed)
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


class StopTextsForm(FlaskForm):
    """Stop text messages (the button is the whole form)."""


class StopEmailsForm(FlaskForm):
    """Stop emails for this study (the button is the whole form)."""


class RemindLaterForm(FlaskForm):
    """When the next reminder should come: a day, and an hour within the sending hours."""

    days = RadioField(
        lazy_gettext("When should we remind you?"),
        choices=[SelectChoice("1", lazy_gettext("Tomorrow")),
                 SelectChoice("3", lazy_gettext("In 3 days")),
                 SelectChoice("7", lazy_gettext("In a week"))],
        validators=[InputRequired(message=lazy_gettext("Choose when we should remind you."))],
    )
    # A list, not radios: a study that sends at any hour offers 25 choices.
    hour = SelectField(lazy_gettext("At what time?"), validators=[Optional()])

    def offer_hours(self, hours: tuple[int, ...]) -> None:
        """The hours the study sends at, after "any time" (the start of its sending hours)."""
        self.hour.choices = [SelectChoice("", lazy_gettext("Any time"))] + [
            SelectChoice(str(h), f"{h:02d}:00") for h in hours]
