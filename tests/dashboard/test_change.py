"""Change, verdicts, the gap's change and the comparator, against hand-computed small studies.

The t quantiles are R's: qt(0.975, 4) = 2.776445, qt(0.975, 6) = 2.446912.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from survey import models as m
from survey.services import dashboard_stats as stats
from survey.services.dashboard import COLLEAGUES, GAP, PEERS, build
from tests.dashboard.conftest import PEERS_1, PEERS_2
from tests.helpers import publish


def test_change_with_everyone_in_both_waves_is_the_paired_t_test() -> None:
    before = dict(enumerate(PEERS_1))
    after = dict(enumerate(PEERS_2))
    estimate = stats.change(before, after)
    # Means 2.8 and 3.4: change 0.6. Each person's change d = 0.2, 0.4, 0.6, 0.8, 1.0;
    # sum (d - 0.6)^2 = 0.4, sd = sqrt(0.4 / 4) = 0.316228, se = sd / sqrt(5) = 0.141421;
    # 95% CI 0.6 -/+ 2.776445 * 0.141421 = 0.6 -/+ 0.392649 (R: t.test(after, before, paired = TRUE)).
    assert estimate.value == pytest.approx(0.6, abs=1e-12)
    assert estimate.se == pytest.approx(0.1414213562, rel=1e-9)
    assert estimate.df == 4
    assert estimate.ci == pytest.approx((0.2073513677, 0.9926486323), rel=1e-9)
    assert stats.change_verdict(estimate) == "better"
    assert stats.change_verdict(estimate, higher_is_better=False) == "worse"


def test_change_uses_people_who_answered_only_one_wave() -> None:
    # Person 6 answered only the first wave (3.0), person 7 only the second (4.0).
    before = {**dict(enumerate(PEERS_1)), 6: 3.0}  # 6 people, sum 17, mean 2.833333
    after = {**dict(enumerate(PEERS_2)), 7: 4.0}  # 6 people, sum 21, mean 3.5
    estimate = stats.change(before, after)
    # Change = 3.5 - 2.833333 = 0.666667 (the difference of the two means shown).
    # u_i = (after_i - 3.5)/6 - (before_i - 2.833333)/6 for the 7 people:
    #   -0.077778, -0.044444, -0.011111, 0.022222, 0.055556, -0.027778 (only before), 0.083333 (only after)
    # sum u^2 = 0.019444; var = 7/6 * 0.019444 = 0.022685; se = 0.150616; df = 7 - 1 = 6;
    # CI 0.666667 -/+ 2.446912 * 0.150616 = 0.666667 -/+ 0.368544.
    assert estimate.value == pytest.approx(2 / 3, rel=1e-12)
    assert estimate.se == pytest.approx(0.1506160190, rel=1e-9)
    assert estimate.df == 6
    assert estimate.ci == pytest.approx((0.2981225448, 1.0352107886), rel=1e-9)


def test_no_clear_change_when_the_interval_includes_zero() -> None:
    # Colleagues: changes 0.1, -0.1, 0, 0.2, -0.2: mean 0, sd = sqrt(0.1 / 4) = 0.158114,
    # se = 0.070711, CI 0 -/+ 2.776445 * 0.070711 = -/+ 0.196324.
    before = dict(enumerate([3.0, 3.5, 4.0, 4.5, 4.0]))
    after = dict(enumerate([3.1, 3.4, 4.0, 4.7, 3.8]))
    estimate = stats.change(before, after)
    assert estimate.ci == pytest.approx((-0.1963243161, 0.1963243161), rel=1e-9, abs=1e-12)
    assert stats.change_verdict(estimate) == "no clear change"


def test_welch_comparison_by_hand() -> None:
    # Trust: 3.1, 3.4, 4.0, 4.7, 3.8: mean 3.8, squared deviations 0.49 + 0.16 + 0 + 0.81 + 0.04 = 1.5,
    # variance 1.5 / 4 = 0.375. Others (15 people): n 15, sum 37, sum of squares 92.9: mean 2.466667,
    # variance (92.9 - 15 * 2.466667^2) / 14 = 0.116667.
    trust = stats.Summary.of([3.1, 3.4, 4.0, 4.7, 3.8])
    others = stats.Summary.from_sums(15, 37.0, 92.9)
    assert trust.variance == pytest.approx(0.375, rel=1e-12)
    assert others.mean == pytest.approx(37 / 15, rel=1e-12)
    assert others.variance == pytest.approx(0.1166666667, rel=1e-9)
    estimate = stats.welch(trust, others)
    # se = sqrt(0.375/5 + 0.116667/15) = sqrt(0.075 + 0.0077778) = 0.287711;
    # df = 0.0827778^2 / (0.075^2/4 + 0.0077778^2/14) = 4.857721; qt(0.975, 4.857721) = 2.593393;
    # CI 1.333333 -/+ 0.746148 (R: t.test(trust, others)).
    assert estimate.value == pytest.approx(4 / 3, rel=1e-12)
    assert estimate.se == pytest.approx(0.2877112750, rel=1e-9)
    assert estimate.df == pytest.approx(4.857721131, rel=1e-9)
    assert estimate.ci == pytest.approx((0.5871848185, 2.0794818481), rel=1e-9)
    assert stats.benchmark_verdict(estimate) == "significantly above"


def test_the_small_study_built(db: Session, small_study: dict[str, Any]) -> None:
    board = build(db, small_study["study"], small_study["org"].id, min_group=5)
    assert board.current_wave == 2
    changes = {(c.group, c.since): c for c in board.changes if c.scale == "equality"}
    # With two waves the previous wave is the baseline: both comparisons are the same.
    for since in ("previous wave", "baseline"):
        peers, colleagues = changes[(PEERS, since)], changes[(COLLEAGUES, since)]
        assert (peers.value_from, peers.value_to) == pytest.approx((2.8, 3.4))
        assert peers.estimate is not None and peers.estimate.ci == pytest.approx((0.2073513677, 0.9926486323))
        assert peers.verdict == "better"
        assert colleagues.estimate is not None and colleagues.estimate.value == pytest.approx(0, abs=1e-12)
        assert colleagues.verdict == "no clear change"
    # Gap (colleagues minus peers): 3.8 - 2.8 = 1.0, then 3.8 - 3.4 = 0.4. Its change 0 - 0.6 = -0.6,
    # se = sqrt(0.070711^2 + 0.141421^2) = sqrt(0.005 + 0.02) = 0.158114,
    # df = 0.025^2 / (0.005^2/4 + 0.02^2/4) = 5.882353, qt(0.975, 5.882353) = 2.458824:
    # CI -0.6 -/+ 0.388774.
    gap = next(c for c in board.gap_changes if c.since == "baseline")
    assert gap.group == GAP and (gap.value_from, gap.value_to) == pytest.approx((1.0, 0.4))
    assert gap.estimate is not None
    assert gap.estimate.se == pytest.approx(0.1581138830, rel=1e-9)
    assert gap.estimate.df == pytest.approx(5.882352941, rel=1e-9)
    assert gap.estimate.ci == pytest.approx((-0.9887741644, -0.2112258356), rel=1e-9)
    assert gap.verdict == "narrowing"
    # The largest reliable change, in words, to one decimal place.
    assert [c.group for c in board.summary] == [PEERS]


def test_the_comparator_by_hand(db: Session, small_study: dict[str, Any]) -> None:
    board = build(db, small_study["study"], small_study["org"].id, min_group=5)
    bench = {b.group: b for b in board.benchmarks}
    # Peer workers: trust 3.4 (variance 5.2/4 = 1.3); others 15 people, mean 45/15 = 3.0,
    # sum of squared deviations from 3.0: 2.7 + 0.55 + 5.45 = 8.7, variance 8.7/14 = 0.621429.
    # se = sqrt(1.3/5 + 0.621429/15) = 0.549025, df = 5.337564: CI 0.4 -/+ 2.522445 * 0.549025.
    peers = bench[PEERS]
    assert (peers.trust_value, peers.comparator_value) == pytest.approx((3.4, 3.0))
    assert peers.comparator_trusts == 3
    assert peers.estimate is not None
    assert peers.estimate.ci == pytest.approx((-0.9848857620, 1.7848857620), rel=1e-9)
    assert peers.verdict == "similar"
    # Colleagues: 3.8 against 37/15 = 2.466667 (test_welch_comparison_by_hand): above.
    colleagues = bench[COLLEAGUES]
    assert colleagues.estimate is not None
    assert colleagues.estimate.ci == pytest.approx((0.5871848185, 2.0794818481), rel=1e-9)
    assert colleagues.verdict == "significantly above"


def test_the_comparator_needs_three_other_trusts_each_large_enough(
        db: Session, small_study: dict[str, Any]) -> None:
    study, org = small_study["study"], small_study["org"]
    assert all(b.estimate is not None for b in build(db, study, org.id, min_group=5).benchmarks)
    # At a threshold of 6 each other trust (5 people) is too small to count.
    strict = build(db, study, org.id, min_group=5 + 1)
    assert strict.benchmarks == [] or all(b.suppressed for b in strict.benchmarks)
    # Seen from trust B, the comparator pools A, C and D.
    other = small_study["others"]["BBB"]
    seen_by_b = build(db, study, other.id, min_group=5)
    assert seen_by_b.current_wave == 2 and seen_by_b.benchmarks
    assert all(b.comparator_trusts == 3 for b in seen_by_b.benchmarks)


def test_the_comparator_is_withheld_with_two_other_trusts(db: Session, small_study: dict[str, Any]) -> None:
    ddd = small_study["others"]["DDD"]
    db.execute(delete(m.ScaleScore).where(m.ScaleScore.response_id.in_(
        select(m.Response.id).join(m.Invitation).join(m.Participant).join(m.Team)
        .where(m.Team.organisation_id == ddd.id))))
    db.commit()
    publish(db, fresh=True)
    board = build(db, small_study["study"], small_study["org"].id, min_group=5)
    assert board.benchmarks and all(b.suppressed for b in board.benchmarks)
    assert all(b.comparator_value is None and b.verdict is None for b in board.benchmarks)
    assert "fewer than 3 other trusts" in (board.benchmarks[0].reason or "")
