"""Scale scores from item answers: reverse keys, the missing-data rule and bad answers."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from instruments import ScaleScore, score_scales
from instruments.scoring import keyed_value

from .builders import make_instrument

FIVE = make_instrument({"core": [("c1", False), ("c2", False), ("c3", False), ("c4", True),
                                 ("c5", True)]})


def test_mean_after_reverse_keying() -> None:
    scores = score_scales(FIVE, {"c1": 5, "c2": 4, "c3": 3, "c4": 2, "c5": 1})
    # keyed: 5, 4, 3, 6-2=4, 6-1=5
    assert list(scores) == ["core"]
    assert (scores["core"].scale, scores["core"].items_answered) == ("core", 5)
    assert scores["core"].score == pytest.approx(21 / 5)


def test_reverse_keys_at_both_ends() -> None:
    assert keyed_value(FIVE, "c4", 1) == 5
    assert keyed_value(FIVE, "c4", 5) == 1
    assert keyed_value(FIVE, "c4", 3) == 3
    assert keyed_value(FIVE, "c1", 1) == 1
    lowest = score_scales(FIVE, {"c1": 1, "c2": 1, "c3": 1, "c4": 5, "c5": 5})["core"]
    highest = score_scales(FIVE, {"c1": 5, "c2": 5, "c3": 5, "c4": 1, "c5": 1})["core"]
    assert (lowest.score, highest.score) == (1.0, 5.0)


def test_all_missing_gives_no_score() -> None:
    assert score_scales(FIVE, {}) == {"core": ScaleScore("core", None, 0)}
    assert score_scales(FIVE, dict.fromkeys(["c1", "c2", "c3", "c4", "c5"])) == {
        "core": ScaleScore("core", None, 0)}


def test_exactly_at_the_threshold_is_scored_and_one_below_is_not() -> None:
    # min_answered 0.6 of 5 items: 3 answers are exactly enough.
    at = score_scales(FIVE, {"c1": 2, "c2": 4, "c4": 5})["core"]
    below = score_scales(FIVE, {"c1": 2, "c4": 5})["core"]
    assert (at.score, at.items_answered) == (pytest.approx((2 + 4 + 1) / 3), 3)
    assert below == ScaleScore("core", None, 2)


def test_threshold_that_floats_cannot_hold_exactly() -> None:
    # 0.7 * 10 is 7.000000000000001 in floating point; 7 of 10 must still count.
    ten = make_instrument({"long": [(f"l{n}", False) for n in range(10)]}, min_answered=0.7)
    seven = {f"l{n}": 4 for n in range(7)}
    assert score_scales(ten, seven)["long"] == ScaleScore("long", 4.0, 7)
    del seven["l0"]
    assert score_scales(ten, seven)["long"] == ScaleScore("long", None, 6)


def test_none_and_absent_answers_are_both_missing() -> None:
    with_none = score_scales(FIVE, {"c1": 4, "c2": None, "c3": 4, "c4": None, "c5": 2})
    without = score_scales(FIVE, {"c1": 4, "c3": 4, "c5": 2})
    assert with_none == without == {"core": ScaleScore("core", 4.0, 3)}


def test_every_scale_is_scored_separately() -> None:
    two = make_instrument({"one": [("a", False), ("b", False), ("c", True)],
                           "two": [("d", False), ("e", False), ("f", True)]})
    scores = score_scales(two, {"a": 5, "b": 5, "c": 1, "d": 1})
    assert scores == {"one": ScaleScore("one", 5.0, 3), "two": ScaleScore("two", None, 1)}


@pytest.mark.parametrize("value", [0, 6, -1, 3.0, "4", True])
def test_values_outside_the_response_options_raise(value: object) -> None:
    with pytest.raises(ValueError, match="is not one of the response values 1, 2, 3, 4, 5"):
        score_scales(FIVE, {"c1": value})


def test_unknown_item_raises() -> None:
    with pytest.raises(ValueError, match="built v1 has no item 'x9'"):
        score_scales(FIVE, {"x9": 3})


@given(st.dictionaries(st.sampled_from(["c1", "c2", "c3", "c4", "c5"]),
                       st.one_of(st.none(), st.integers(1, 5))))
def test_reversing_every_answer_mirrors_the_score(answers: dict[str, int | None]) -> None:
    mirrored = {k: None if v is None else 6 - v for k, v in answers.items()}
    score = score_scales(FIVE, answers)["core"]
    mirror = score_scales(FIVE, mirrored)["core"]
    assert score.items_answered == mirror.items_answered
    if score.score is None:
        assert mirror.score is None
    else:
        assert mirror.score == pytest.approx(6 - score.score)
        assert 1 <= score.score <= 5
