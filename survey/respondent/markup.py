"""Radio groups as HTML: built once per question, then filled in with the answer and errors.

A survey page repeats the same six radio buttons for every item. Rendering them through
WTForms widgets cost more than everything else in a request, so each group's markup is
built here once (per instrument version and page: see `survey.respondent.forms.page_assets`)
with every possible choice already checked, and a request only picks the variant for its
answer. The consent and withdrawal forms use the same builder, so every radio group on a
respondent page has one accessible structure: a fieldset with a legend, the hint and any
error tied to it by aria-describedby, and a label around every button.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from flask_babel import gettext
from markupsafe import Markup, escape
from wtforms import RadioField

NOT_APPLICABLE = "na"  # the form value of "Does not apply", stored as None


@dataclass(frozen=True)
class RadioGroup:
    """One question's radio group, pre-rendered.

    `head` is the fieldset's opening with its legend and hint (no error), and `options`
    the list of buttons with nothing checked (key None) or with each choice checked.
    """

    name: str
    legend: str
    hint: str
    legend_class: str
    head: str
    options: Mapping[str | None, str]

    @classmethod
    def build(
        cls, name: str, legend: str, choices: Sequence[tuple[str, str]], hint: str = "",
        legend_class: str = "",
    ) -> RadioGroup:
        """Pre-render a group of `choices` (value, label) for the field `name`."""
        def buttons(chosen: str | None) -> str:
            rows = []
            for index, (value, label) in enumerate(choices):
                css = ' class="option-na"' if value == NOT_APPLICABLE else ""
                checked = " checked" if value == chosen else ""
                rows.append(
                    f'    <li{css}><label><input id="{escape(name)}-{index}" name="{escape(name)}"'
                    f' type="radio" value="{escape(value)}"{checked}> <span>{escape(label)}</span>'
                    "</label></li>\n"
                )
            return '  <ul class="likert-options">\n' + "".join(rows) + "  </ul>\n</fieldset>\n"

        options: dict[str | None, str] = {None: buttons(None)}
        for value, _label in choices:
            options[value] = buttons(value)
        head = _head(name, legend, hint, legend_class, ())
        return cls(name, legend, hint, legend_class, head, options)

    def html(self, chosen: str | None = None, errors: Sequence[str] = ()) -> str:
        """The group's HTML (escaped) with `chosen` checked and `errors` shown and announced."""
        head = _head(self.name, self.legend, self.hint, self.legend_class, errors) if errors else self.head
        return head + self.options.get(chosen, self.options[None])


def _head(name: str, legend: str, hint: str, legend_class: str, errors: Sequence[str]) -> str:
    """A group's opening: fieldset, legend, hint and errors, the last two tied to the fieldset."""
    name = escape(name)
    described = ([f"{name}-hint"] if hint else []) + ([f"{name}-error"] if errors else [])
    css = "likert field-error" if errors else "likert"
    aria = f' aria-describedby="{" ".join(described)}"' if described else ""
    legend_css = f' class="{escape(legend_class)}"' if legend_class else ""
    parts = [
        f'<fieldset class="{css}" id="{name}"{aria}>\n',
        f"  <legend{legend_css}>{escape(legend)}</legend>\n",
    ]
    if hint:
        parts.append(f'  <p class="hint" id="{name}-hint">{escape(hint)}</p>\n')
    if errors:
        parts.append(f'  <p class="error-text" id="{name}-error">{escape(gettext("Error:"))} '
                     f'{escape(" ".join(map(str, errors)))}</p>\n')
    return "".join(parts)


@dataclass(frozen=True)
class InputQuestion:
    """A question answered by typing (a number or free text), pre-rendered around its value.

    A labelled text box (`inputmode` numeric or decimal) or textarea; its hints (the item's
    help, the range or the character limit) and any error are tied to it by
    aria-describedby. The control's id is `NAME-0`, as a radio group's first button, so the
    error summary links to it the same way.
    """

    name: str
    head: str  # the wrapper, label and hints
    hint_ids: tuple[str, ...]
    open_tag: str  # the control's opening up to aria-describedby (exclusive)
    textarea: bool

    @classmethod
    def build(cls, name: str, label: str, hints: Sequence[tuple[str, str]],
              textarea: bool = False, inputmode: str = "numeric",
              max_length: int | None = None) -> InputQuestion:
        """Pre-render a question `name` with `label` and `hints` (id suffix, text)."""
        esc = escape(name)
        parts = [f'<div class="question" id="{esc}">\n',
                 f'  <label class="question-label" for="{esc}-0">{escape(label)}</label>\n']
        hint_ids = []
        for suffix, text in hints:
            hint_id = f"{esc}-{escape(suffix)}"
            hint_ids.append(hint_id)
            parts.append(f'  <p class="hint" id="{hint_id}">{escape(text)}</p>\n')
        limit = f' maxlength="{max_length}"' if max_length else ""
        if textarea:
            open_tag = f'  <textarea id="{esc}-0" name="{esc}" rows="5"{limit}'
        else:
            open_tag = (f'  <input id="{esc}-0" name="{esc}" type="text" inputmode="{escape(inputmode)}"'
                        f' autocomplete="off" spellcheck="false" class="input-short"{limit}')
        return cls(name, "".join(parts), tuple(hint_ids), open_tag, textarea)

    def html(self, chosen: str | None = None, errors: Sequence[str] = ()) -> str:
        """The question's HTML (escaped) with the typed `chosen` text and `errors` announced."""
        described = list(self.hint_ids)
        error = ""
        if errors:
            described.append(f"{escape(self.name)}-error")
            error = (f'  <p class="error-text" id="{escape(self.name)}-error">'
                     f'{escape(gettext("Error:"))} {escape(" ".join(map(str, errors)))}</p>\n')
        aria = f' aria-describedby="{" ".join(described)}"' if described else ""
        invalid = ' aria-invalid="true"' if errors else ""
        value = escape(chosen or "")
        head = self.head.replace('class="question"', 'class="question field-error"', 1) \
            if errors else self.head
        if self.textarea:
            control = f"{self.open_tag}{aria}{invalid}>{value}</textarea>\n"
        else:
            control = f'{self.open_tag}{aria}{invalid} value="{value}">\n'
        return f"{head}{error}{control}</div>\n"


class Question(Protocol):
    """Anything rendered on a survey page: a radio group or a typed answer."""

    @property
    def name(self) -> str:
        """The form field's name."""

    def html(self, chosen: str | None = None, errors: Sequence[str] = ()) -> str:
        """The question's HTML with its answer and errors."""


def render_groups(
    groups: Sequence[Question], values: Mapping[str, str],
    errors: Mapping[str, Sequence[str]] | None = None,
    reveal: Mapping[str, str] | None = None, left_out: Collection[str] = (),
    beside: Mapping[str, str] | None = None,
) -> Markup:
    """Several questions in order, each with its chosen (or typed) value and errors.

    A question in `left_out` is not shown (a condition on earlier pages hides it). One in
    `reveal` depends on answers on this page: it is wrapped in a block whose data-show-if
    holds the condition (JSON) for static/conditional.js, which hides and reveals it as
    the answers change (the GOV.UK conditional reveal). Without JavaScript it stays shown,
    and the server discards its answer if the condition is not met. `beside` holds HTML to
    follow a question (the support link beside a sensitive one), shown and hidden with it.
    """
    errors = errors or {}
    reveal = reveal or {}
    beside = beside or {}
    parts = []
    for group in groups:
        if group.name in left_out:
            continue
        html = group.html(values.get(group.name), errors.get(group.name, ())) \
            + beside.get(group.name, "")
        if group.name in reveal:
            html = (f'<div class="conditional" id="conditional-{escape(group.name)}" '
                    f'data-show-if="{escape(reveal[group.name])}">\n{html}</div>\n')
        parts.append(html)
    return Markup("".join(parts))  # noqa: S704 - RadioGroup escapes every piece it writes  # nosec B704


def radio_field(field: RadioField, legend_class: str = "") -> Markup:
    """A WTForms radio field (consent, withdrawal) rendered as a RadioGroup."""
    choices = [(str(value), str(label)) for value, label, *_ in field.iter_choices()]
    group = RadioGroup.build(field.name, str(field.label.text), choices,
                             str(field.description or ""), legend_class)
    chosen = None if field.data is None else str(field.data)
    return render_groups([group], {field.name: chosen} if chosen else {}, {field.name: field.errors})
