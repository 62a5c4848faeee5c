"""Loading instruments by id and version, pages per wave, and the shipped directory."""

from __future__ import annotations

from pathlib import Path

import pytest

import instruments
from instruments import (
    INSTRUMENT_DIR,
    InstrumentError,
    InstrumentNotFound,
    load_all,
    load_instrument,
    load_themes,
)

from .builders import COLLEAGUE, MINI, THEMES, mutate, write_dir


@pytest.fixture
def directory(tmp_path: Path) -> Path:
    """MINI at versions 1 and 2, its colleague form and the test themes."""
    v2 = mutate(MINI, "version: 1\n", "version: 2\n")
    return write_dir(tmp_path, {"themes.yaml": THEMES, "mini_v1.yaml": MINI,
                                "zz_mini_v2.yaml": v2, "colleague.yaml": COLLEAGUE})


def test_latest_version_when_none_is_given(directory: Path) -> None:
    assert load_instrument("mini", directory=directory).version == 2
    assert load_instrument("mini", 1, directory=directory).version == 1


def test_files_are_found_by_their_id_and_version_not_their_name(tmp_path: Path) -> None:
    directory = write_dir(tmp_path, {"themes.yaml": THEMES, "whatever.yaml": MINI})
    assert load_instrument("mini", 1, directory=directory).source == "whatever.yaml"


def test_absent_instrument_raises_a_key_error_listing_what_exists(directory: Path) -> None:
    with pytest.raises(InstrumentNotFound) as raised:
        load_instrument("mini", 3, directory=directory)
    assert isinstance(raised.value, KeyError)
    assert isinstance(raised.value, InstrumentError)
    assert "no instrument mini v3; available: mini v1, mini v2, mini_colleague v1" in str(
        raised.value)


def test_load_all_orders_by_id_then_version(directory: Path) -> None:
    assert [i.key for i in load_all(directory)] == ["mini v1", "mini v2", "mini_colleague v1"]


def test_load_themes(directory: Path) -> None:
    themes = load_themes(directory)
    assert list(themes) == ["alpha", "beta", "gamma"]
    assert (themes["beta"].kind, themes["beta"].parent) == ("finding", "alpha")


def test_a_changed_file_is_read_again(tmp_path: Path) -> None:
    directory = write_dir(tmp_path, {"themes.yaml": THEMES, "mini.yaml": MINI})
    assert load_instrument("mini", directory=directory).title == "Mini survey"
    write_dir(directory, {"mini.yaml": mutate(MINI, "title: Mini survey", "title: Renamed one")})
    assert load_instrument("mini", directory=directory).title == "Renamed one"


def test_parsed_fields(directory: Path) -> None:
    mini = load_instrument("mini", 1, directory=directory)
    assert (mini.audience, mini.not_applicable_label) == ("peer_worker", "Does not apply")
    assert (mini.response_options[0].value, mini.response_options[0].label) == (
        1, "Strongly disagree")
    assert list(mini.scales) == ["first", "second", "start"]
    assert mini.scales["first"].items == ("a1", "a2", "a3")
    assert mini.scales["first"].min_answered == 0.6
    assert mini.item("b1").help == "Some help."
    assert mini.item("a3").reverse
    assert mini.item("s1").baseline_only
    colleague = load_instrument("mini_colleague", directory=directory)
    assert colleague.item("c1").pair == "a1"
    assert colleague.not_applicable_label is None
    with pytest.raises(KeyError):
        mini.item("zz")


def test_pages_one_per_scale_with_the_baseline_page_last(directory: Path) -> None:
    mini = load_instrument("mini", 1, directory=directory)
    first = mini.pages(first_wave=True)
    assert [(p.id, p.title) for p in first] == [
        ("first", "First"), ("second", "The second page"), ("baseline", "When you started")]
    assert [i.id for i in first[-1].items] == ["s1", "s2", "s3"]
    assert first[0].intro == mini.time_frame
    assert first[-1].intro == "Thinking back to when you started, how much do you agree?"


def test_later_waves_skip_baseline_items_and_empty_pages(directory: Path) -> None:
    mini = load_instrument("mini", 1, directory=directory)
    assert [p.id for p in mini.pages(first_wave=False)] == ["first", "second"]
    assert [i.id for i in mini.items_for(first_wave=False)] == [
        "a1", "a2", "a3", "b1", "b2", "b3"]
    assert len(mini.items_for(first_wave=True)) == 9


def test_default_directory_is_the_shipped_one() -> None:
    assert Path(instruments.__file__).resolve().parent == INSTRUMENT_DIR
    assert (INSTRUMENT_DIR / "peer_worker_v1.yaml").is_file()
    assert load_instrument("peer_worker").source == "peer_worker_v2.yaml"  # the latest
    assert load_instrument("peer_worker", 1).source == "peer_worker_v1.yaml"


def test_instruments_can_key_a_dict(directory: Path) -> None:
    mini = load_instrument("mini", 1, directory=directory)
    assert {mini: 1}[load_instrument("mini", 1, directory=directory)] == 1
