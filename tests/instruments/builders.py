"""Small valid instrument files, and helpers to break them, for the instrument tests."""

from __future__ import annotations

from pathlib import Path

from instruments import Instrument, Item, ResponseOption, Scale

MARK = "# mutated"

THEMES = """\
themes:
  - id: alpha
    kind: theme
    label: Alpha
    description: The first theme.
  - id: beta
    kind: finding
    parent: alpha
    label: Beta
    description: A finding within the first theme.
  - id: gamma
    kind: outcome
    label: Gamma
    description: An outcome.
"""

MINI = """\
id: mini
version: 1
title: Mini survey
audience: peer_worker
intro: A short survey for tests.
time_frame: Thinking about the last three months, how much do you agree?
response_options:
  - {value: 1, label: Strongly disagree}
  - {value: 2, label: Disagree}
  - {value: 3, label: Neither agree nor disagree}
  - {value: 4, label: Agree}
  - {value: 5, label: Strongly agree}
not_applicable_label: Does not apply
scales:
  - id: first
    label: First
    description: The first scale.
    min_answered: 0.6
  - id: second
    label: Second
    page_title: The second page
    description: The second scale.
    min_answered: 0.6
  - id: start
    label: Start
    description: Asked once.
    min_answered: 0.6
baseline_module:
  title: When you started
  intro: Thinking back to when you started, how much do you agree?
items:
  - id: a1
    text: I am item a one.
    scale: first
    reverse: false
    theme: alpha
  - id: a2
    text: I am item a two.
    scale: first
    reverse: false
    theme: alpha
  - id: a3
    text: I am item a three.
    scale: first
    reverse: true
    theme: beta
  - id: s1
    text: I am item s one.
    scale: start
    reverse: false
    theme: alpha
    baseline_only: true
  - id: s2
    text: I am item s two.
    scale: start
    reverse: true
    theme: alpha
    baseline_only: true
  - id: s3
    text: I am item s three.
    scale: start
    reverse: false
    theme: alpha
    baseline_only: true
  - id: b1
    text: I am item b one.
    scale: second
    reverse: false
    theme: gamma
    help: Some help.
  - id: b2
    text: I am item b two.
    scale: second
    reverse: false
    theme: gamma
  - id: b3
    text: I am item b three.
    scale: second
    reverse: true
    theme: gamma
"""

COLLEAGUE = """\
id: mini_colleague
version: 1
title: Mini colleague survey
audience: colleague
intro: A short colleague survey for tests.
time_frame: Thinking about the peer worker roles in your team, how much do you agree?
response_options:
  - {value: 1, label: Strongly disagree}
  - {value: 2, label: Disagree}
  - {value: 3, label: Neither agree nor disagree}
  - {value: 4, label: Agree}
  - {value: 5, label: Strongly agree}
pairs_with:
  instrument: mini
  version: 1
scales:
  - id: first
    label: First
    description: The first scale.
    min_answered: 0.5
items:
  - id: c1
    text: Peer workers are item c one.
    scale: first
    reverse: false
    theme: alpha
    pair: a1
  - id: c2
    text: Peer workers are item c two.
    scale: first
    reverse: false
    theme: alpha
  - id: c3
    text: Peer workers are item c three.
    scale: first
    reverse: true
    theme: beta
    pair: a3
"""


# MINI with an extra page of each other item type: choice, whole and decimal numbers, free text.
_TYPED_ITEMS = """\
pages:
  - id: about_you
    title: About you
    intro: Asked once.
  - id: words
    title: In your own words
items:
  - id: hours
    type: choice
    text: How many hours do you work?
    theme: alpha
    page: about_you
    baseline_only: true
    options:
      - {value: 1, label: Up to 15 hours}
      - {value: 2, label: 16 hours or more}
  - id: peers
    type: number
    text: How many peer workers are in your team?
    theme: alpha
    page: about_you
    baseline_only: true
    min: 0
    max: 50
    unit: peer workers
  - id: weight
    type: number
    text: How many days a week?
    theme: alpha
    page: words
    min: 0.5
    max: 5
    integer: false
  - id: open
    type: text
    text: What one thing would help?
    theme: gamma
    page: words
    max_length: 200
    help: Please do not name anyone.
"""
TYPED = MINI.replace("items:\n", _TYPED_ITEMS, 1)


def write_dir(directory: Path, files: dict[str, str]) -> Path:
    """Write each file name -> text into `directory` and return it."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (directory / name).write_text(text, encoding="utf-8")
    return directory


def mutate(text: str, old: str, new: str, count: int = 1) -> str:
    """Replace `old` (which must occur exactly `count` times) with `new`."""
    assert text.count(old) == count, f"{old!r} occurs {text.count(old)} times, not {count}"
    return text.replace(old, new)


def marked_line(text: str) -> int:
    """The 1-based number of the one line carrying MARK."""
    lines = [n for n, line in enumerate(text.splitlines(), start=1) if MARK in line]
    assert len(lines) == 1, f"expected one marked line, found {lines}"
    return lines[0]


def make_instrument(
    scales: dict[str, list[tuple[str, bool]]],
    min_answered: float = 0.6,
    baseline: tuple[str, ...] = (),
) -> Instrument:
    """An Instrument built in memory: scale id -> [(item id, reverse)], 1-5 options."""
    items = tuple(
        Item(item_id, f"Item {item_id}.", scale_id, reverse, "alpha", item_id in baseline)
        for scale_id, members in scales.items()
        for item_id, reverse in members
    )
    return Instrument(
        id="built",
        version=1,
        title="Built",
        audience="peer_worker",
        intro="Intro.",
        time_frame="Lately.",
        response_options=tuple(ResponseOption(v, f"label {v}") for v in range(1, 6)),
        not_applicable_label="Does not apply",
        scales={
            scale_id: Scale(scale_id, scale_id.title(), "A scale.", min_answered,
                            tuple(item_id for item_id, _ in members))
            for scale_id, members in scales.items()
        },
        items=items,
        content_hash="0" * 64,
    )


# MINI with conditions: the second scale only after a1 is agreed with, an extra page with a
# yes/no question, a follow-up on the same page, a number, and a page that depends on them.
_CONDITIONAL_ITEMS = """\
pages:
  - id: about_you
    title: About you
  - id: supervision
    title: Your supervision
    show_if: {item: supervised, equals: 1}
items:
  - id: supervised
    type: choice
    text: Do you have regular supervision?
    theme: alpha
    page: about_you
    options:
      - {value: 1, label: 'Yes'}
      - {value: 0, label: 'No'}
  - id: useful
    type: choice
    text: How useful is your supervision?
    theme: alpha
    page: about_you
    show_if: {item: supervised, equals: 1}
    options:
      - {value: 1, label: Not useful}
      - {value: 2, label: Useful}
  - id: hours
    type: number
    text: How many hours a week do you work?
    theme: alpha
    page: about_you
    min: 0
    max: 60
  - id: long_hours
    type: text
    text: What makes your week long?
    theme: gamma
    page: about_you
    max_length: 200
    show_if: {all: [{item: hours, above: 37}, {role: [peer_worker, manager]}]}
  - id: better
    type: text
    text: What would make supervision better?
    theme: gamma
    page: supervision
    max_length: 200
"""
CONDITIONAL = MINI.replace("items:\n", _CONDITIONAL_ITEMS, 1).replace(
    "    page_title: The second page\n",
    "    page_title: The second page\n    show_if: {item: a1, in: [4, 5]}\n", 1)

# CONDITIONAL with the first scale's items shuffled for each response.
RANDOMISED = CONDITIONAL.replace(
    "  - id: first\n    label: First\n", "  - id: first\n    label: First\n    randomise: true\n", 1)
