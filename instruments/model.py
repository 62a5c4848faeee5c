"""The parsed form of instrument and theme files: frozen dataclasses, no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field

AUDIENCES = ("peer_worker", "colleague")
BASELINE_PAGE_ID = "baseline"


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


@dataclass(frozen=True)
class Item:
    """One statement the respondent rates."""

    id: str
    text: str
    scale: str
    reverse: bool
    theme: str
    baseline_only: bool = False
    help: str | None = None
    pair: str | None = None
    line: int | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Page:
    """One screen of the questionnaire."""

    id: str
    title: str
    intro: str | None
    items: tuple[Item, ...]


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
    source: str | None = field(default=None, compare=False, repr=False)

    def __hash__(self) -> int:
        """Hash by identity and content, so instruments can key caches."""
        return hash((self.id, self.version, self.content_hash))

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

    def items_for(self, first_wave: bool) -> tuple[Item, ...]:
        """Items asked at a wave: all at the first wave, else those not baseline-only."""
        return tuple(i for i in self.items if first_wave or not i.baseline_only)

    def pages(self, first_wave: bool) -> list[Page]:
        """One page per scale in file order, then the baseline-only page at the first wave."""
        asked = self.items_for(first_wave)
        pages = []
        for scale in self.scales.values():
            items = tuple(i for i in asked if i.scale == scale.id and not i.baseline_only)
            if items:
                title = scale.page_title or scale.label
                pages.append(Page(scale.id, title, self.time_frame, items))
        baseline = tuple(i for i in asked if i.baseline_only)
        if baseline and self.baseline_module is not None:
            module = self.baseline_module
            pages.append(Page(BASELINE_PAGE_ID, module.title, module.intro, baseline))
        return pages
