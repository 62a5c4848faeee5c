"""Reading-ease figures: the shipped items meet the aims, and harder text scores worse."""

from __future__ import annotations

import dataclasses

import pytest

from instruments import Item, load_instrument
from instruments.readability import ensure_cmudict, measure

from .builders import make_instrument


@pytest.mark.parametrize("instrument_id", ["peer_worker", "colleague"])
def test_shipped_instruments_meet_the_reading_aims(instrument_id: str) -> None:
    figures = measure(load_instrument(instrument_id))
    assert figures.flesch_reading_ease >= 60
    assert figures.flesch_kincaid_grade <= 8
    assert figures.long_items == ()


def test_peer_worker_takes_five_to_eight_minutes_at_the_first_wave() -> None:
    figures = measure(load_instrument("peer_worker"))
    assert 4 <= figures.minutes_first_wave <= 8
    assert figures.minutes_later_waves < figures.minutes_first_wave
    assert figures.items_later_waves < figures.items


def test_dense_wording_reads_harder() -> None:
    plain = make_instrument({"s": [("a", False), ("b", False), ("c", True)]})
    dense_text = ("Organisational infrastructural considerations systematically "
                  "undermine interdisciplinary collaborative therapeutic relationships.")
    dense = dataclasses.replace(plain, items=tuple(
        Item(item.id, dense_text, item.scale, item.reverse, item.theme)
        for item in plain.items))
    easy, hard = measure(plain), measure(dense)
    assert hard.flesch_reading_ease < 30 < easy.flesch_reading_ease
    assert hard.flesch_kincaid_grade > 12 > easy.flesch_kincaid_grade


def test_syllables_come_from_a_local_dictionary() -> None:
    import nltk  # type: ignore[import-untyped]

    ensure_cmudict()
    assert nltk.data.find("corpora/cmudict")
    assert nltk.corpus.cmudict.dict()["peer"] == [["P", "IH1", "R"]]
