"""The shipped questionnaires meet the study's brief: constructs, sizes, keys, themes, pairs."""

from __future__ import annotations

import pytest

from instruments import INSTRUMENT_DIR, Instrument, check_directory, load_instrument, load_themes

CORE = ("identity", "support", "equality", "empowerment")


@pytest.fixture(scope="module")
def peer() -> Instrument:
    """The peer worker questionnaire, version 1."""
    return load_instrument("peer_worker", 1)


@pytest.fixture(scope="module")
def colleague() -> Instrument:
    """The colleague questionnaire, version 1."""
    return load_instrument("colleague", 1)


def test_shipped_files_pass_the_check() -> None:
    assert check_directory(INSTRUMENT_DIR) == []


def test_themes_cover_the_study(peer: Instrument) -> None:
    themes = load_themes()
    by_kind: dict[str, set[str]] = {}
    for theme in themes.values():
        by_kind.setdefault(theme.kind, set()).add(theme.id)
    assert by_kind["theme"] == {"becoming", "fitting_in", "identity", "boundaries",
                                "peer_practice"}
    assert by_kind["outcome"] == {"inequality", "disempowerment", "identity_uncertainty",
                                  "under_support"}
    assert len(by_kind["principle"]) == 5
    assert {"recruitment", "selection_expectations", "flexible_working", "hierarchy",
            "supervision", "training", "protective_practice"} <= by_kind["finding"]
    assert all("\n" not in theme.description for theme in themes.values())


def test_peer_worker_has_the_four_core_scales_and_two_more(peer: Instrument) -> None:
    assert peer.audience == "peer_worker"
    assert list(peer.scales)[:4] == list(CORE)
    assert {"role_clarity", "peer_practice"} <= set(peer.scales)
    for scale_id in CORE:
        items = [peer.item(i) for i in peer.scales[scale_id].items]
        assert 5 <= len(items) <= 7, scale_id
        assert any(item.reverse for item in items), scale_id
        assert not any(item.baseline_only for item in items), scale_id
    assert len(peer.items) <= 40


def test_peer_worker_baseline_module_is_short_and_asked_once(peer: Instrument) -> None:
    baseline = [item for item in peer.items if item.baseline_only]
    assert 3 <= len(baseline) <= 6
    assert {item.theme for item in baseline} <= {"recruitment", "selection_expectations"}
    assert [p.id for p in peer.pages(first_wave=True)][-1] == "baseline"
    assert "baseline" not in [p.id for p in peer.pages(first_wave=False)]


def test_colleague_measures_the_same_constructs_plus_role_clarity(
    colleague: Instrument, peer: Instrument
) -> None:
    assert colleague.audience == "colleague"
    assert list(colleague.scales) == [*CORE, "role_clarity"]
    assert colleague.pairs_with is not None
    assert (colleague.pairs_with.instrument, colleague.pairs_with.version) == ("peer_worker", 1)
    for scale_id in colleague.scales:
        paired = [colleague.item(i) for i in colleague.scales[scale_id].items
                  if colleague.item(i).pair]
        assert len(paired) >= 3, f"scale {scale_id} has too few paired items for a gap"
        for item in paired:
            assert item.pair is not None
            assert peer.item(item.pair).scale == scale_id


@pytest.mark.parametrize("instrument_id", ["peer_worker", "colleague"])
def test_items_are_short_single_statements(instrument_id: str) -> None:
    for item in load_instrument(instrument_id).items:
        words = len(item.text.split())
        assert 5 <= words <= 15, f"{item.id}: {words} words"
        # Statements are rated; background and free-text items ask a question.
        assert item.text.endswith("." if item.is_likert else "?"), item.id


@pytest.mark.parametrize("instrument_id", ["peer_worker", "colleague"])
def test_no_clinical_jargon(instrument_id: str) -> None:
    jargon = ("patient", "symptom", "diagnos", "disorder", "illness", "caseload",
              "multidisciplinary", "intervention", "clinician")
    for item in load_instrument(instrument_id).items:
        lowered = item.text.lower()
        assert not [word for word in jargon if word in lowered], item.id


def test_item_ids_are_unique_across_instruments(peer: Instrument, colleague: Instrument) -> None:
    ids = [item.id for item in (*peer.items, *colleague.items)]
    assert len(ids) == len(set(ids))
