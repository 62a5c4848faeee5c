"""The parsed form of instrument and theme files: frozen dataclasses, no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field

from .conditions import Condition

AUDIENCES = ("peer_worker", "colleague")
BASELINE_PAGE_ID = "baseline"
#: Item types the respondent pages can render. Only Likert items belong to a scale and are
#: scored; the others (background questions and free text) are stored and exported as given.
LIKERT, CHOICE, NUMBER, TEXT = "likert", "choice", "number", "text"
ITEM_TYPES = (LIKERT, CHOICE, NUMBER, TEXT)


@dataclass(frozen=True)
class Problem:
    """One thing wrong in an instrument or theme file, located as precisely as known."""

    file: str
    line: int | None
    item: str | None
    field: str | None
    message: str

    def __str__(self) -> str:
        """Render as 'file:line: item X, field 'y': message'."""
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        parts = []
        if self.item is not None:
            parts.append(f"item {self.item}")
        if self.field is not None:
            parts.append(f"field '{self.field}'")
        context = ", ".join(parts)
        return f"{where}: {context}: {self.message}" if context else f"{where}: {self.message}"


class InstrumentError(Exception):
    """Instrument or theme files that cannot be used; `problems` lists every fault found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = list(problems)
        super().__init__(str(self))

    def __str__(self) -> str:
        """List every problem, one per line."""
        return "\n".join(str(problem) for problem in self.problems)


class InstrumentNotFound(InstrumentError, KeyError):
    """No instrument with the requested id (and version) exists."""


@dataclass(frozen=True)
class Theme:
    """A theme, finding, outcome or principle from the study, in our own words."""

    id: str
    kind: str
    label: str
    description: str
    parent: str | None = None


@dataclass(frozen=True)
class ResponseOption:
    """One answer a respondent can give, with the value that is stored and scored."""

    value: int
    label: str


@dataclass(frozen=True)
class Scale:
    """A scored scale: the mean of its items after reverse keying."""

    id: str
    label: str
    description: str
    min_answered: float
    items: tuple[str, ...]
    page_title: str | None = None
    #: The scale's page is asked only when this holds (its items' `show_if` include it).
    show_if: Condition | None = None
    #: Its page's items are shuffled for each response (the order is stored with it).
    randomise: bool = False


@dataclass(frozen=True)
class NumberRange:
    """What a number item accepts: from `minimum` to `maximum`, whole numbers or not."""

    minimum: float
    maximum: float
    integer: bool = True
    unit: str | None = None


@dataclass(frozen=True)
class Item:
    """One question: a statement rated on the response scale (Likert), or another type.

    A Likert item (the default) belongs to a scale and is scored. A `choice` item has its
    own `options`, a `number` item a `number` range and unit, a `text` item a `max_length`;
    these have no scale, are never scored, and sit on one of the instrument's extra `pages`.
    """

    id: str
    text: str
    scale: str | None
    reverse: bool
    theme: str
    baseline_only: bool = False
    help: str | None = None
    pair: str | None = None
    line: int | None = field(default=None, compare=False, repr=False)
    type: str = LIKERT
    options: tuple[ResponseOption, ...] = ()
    number: NumberRange | None = None
    max_length: int | None = None
    page: str | None = None
    #: Asked only when this holds: the item's own condition and its page's (or scale's).
    show_if: Condition | None = None
    #: May bring up something difficult: the page shows the study's support link beside it.
    sensitive: bool = False

    @property
    def is_likert(self) -> bool:
        """True for a statement rated on the instrument's response scale (and scored)."""
        return self.type == LIKERT

    def option_label(self, value: int) -> str | None:
        """The label of a choice item's option `value` (None if it has no such option)."""
        return next((o.label for o in self.options if o.value == value), None)


@dataclass(frozen=True)
class PageSpec:
    """An extra page for items that are not on a scale: background questions, free text."""

    id: str
    title: str
    intro: str | None = None
    show_if: Condition | None = None
    randomise: bool = False


@dataclass(frozen=True)
class Page:
    """One screen of the questionnaire."""

    id: str
    title: str
    intro: str | None
    items: tuple[Item, ...]
    randomise: bool = False
    #: In one-question-per-page mode each question is a step of its own: the id of the page
    #: the step is part of (the step's own id is `step_id(part_of, item id)`).
    part_of: str | None = None


def step_id(page_id: str, item_id: str) -> str:
    """The id of the step that asks one item of a page on its own (one question per page)."""
    return f"{page_id}/{item_id}"


@dataclass(frozen=True)
class BaselineModule:
    """Title and introduction of the page that holds the baseline-only items."""

    title: str
    intro: str


@dataclass(frozen=True)
class PairTarget:
    """The instrument whose items a colleague instrument's `pair` fields name."""

    instrument: str
    version: int


@dataclass(frozen=True)
class Translation:
    """An instrument's texts in one more language, keyed as `source_texts` keys the English.

    Texts are "needing review by a qualified translator" until `reviewed_by` and `reviewed_on`
    are both recorded in the file.
    """

    language: str
    texts: tuple[tuple[str, str], ...]
    text_hash: str
    reviewed_by: str | None = None
    reviewed_on: str | None = None

    @property
    def reviewed(self) -> bool:
        """True once a reviewer's name and the date of the review are recorded."""
        return bool(self.reviewed_by and self.reviewed_on)


@dataclass(frozen=True)
class Instrument:
    """A questionnaire at one version, as loaded and checked from its YAML file."""

    id: str
    version: int
    title: str
    audience: str
    intro: str
    time_frame: str
    response_options: tuple[ResponseOption, ...]
    not_applicable_label: str | None
    scales: dict[str, Scale]
    items: tuple[Item, ...]
    content_hash: str
    baseline_module: BaselineModule | None = None
    pairs_with: PairTarget | None = None
    extra_pages: tuple[PageSpec, ...] = ()
    source: str | None = field(default=None, compare=False, repr=False)
    #: The languages the file declares (the source language, English, first), the language
    #: this object's texts are in, and the other languages' texts.
    languages: tuple[str, ...] = ("en",)
    language: str = "en"
    translations: tuple[Translation, ...] = ()

    def __hash__(self) -> int:
        """Hash by identity, content and language, so instruments can key caches."""
        return hash((self.id, self.version, self.content_hash, self.language))

    def translation(self, language: str) -> Translation | None:
        """The texts of another language, or None when the file has none."""
        return next((t for t in self.translations if t.language == language), None)

    @property
    def key(self) -> str:
        """A short label such as 'peer_worker v1'."""
        return f"{self.id} v{self.version}"

    @property
    def values(self) -> tuple[int, ...]:
        """The storable answer values, lowest first."""
        return tuple(option.value for option in self.response_options)

    def item(self, item_id: str) -> Item:
        """Return the item with this id, or raise KeyError."""
        for candidate in self.items:
            if candidate.id == item_id:
                return candidate
        raise KeyError(f"{self.key} has no item {item_id!r}")

    @property
    def likert_items(self) -> tuple[Item, ...]:
        """The items rated on the response scale (those that are scored)."""
        return tuple(i for i in self.items if i.is_likert)

    def items_of_type(self, *types: str) -> tuple[Item, ...]:
        """The items of the given types, in file order."""
        return tuple(i for i in self.items if i.type in types)

    def items_for(self, first_wave: bool) -> tuple[Item, ...]:
        """Items asked at a wave: all at the first wave, else those not baseline-only."""
        return tuple(i for i in self.items if first_wave or not i.baseline_only)

    def pages(self, first_wave: bool) -> list[Page]:
        """Pages asked at a wave: one per scale in file order, then the baseline-only page
        (at the first wave), then the extra pages in file order; pages with nothing to ask
        at that wave are left out."""
        asked = self.items_for(first_wave)
        pages = []
        for scale in self.scales.values():
            items = tuple(i for i in asked if i.scale == scale.id and not i.baseline_only)
            if items:
                title = scale.page_title or scale.label
                pages.append(Page(scale.id, title, self.time_frame, items, scale.randomise))
        baseline = tuple(i for i in asked if i.baseline_only and i.is_likert)
        if baseline and self.baseline_module is not None:
            module = self.baseline_module
            pages.append(Page(BASELINE_PAGE_ID, module.title, module.intro, baseline))
        for spec in self.extra_pages:
            items = tuple(i for i in asked if i.page == spec.id)
            if items:
                pages.append(Page(spec.id, spec.title, spec.intro, items, spec.randomise))
        return pages
