"""The dashboard's change interval against R on R's `sleep` data set (package datasets).

Every constant comes from reference/change.R (its output is in reference/change.out), with
the R call beside it. The estimator is CR1 in clubSandwich's naming (G/(G-1) alone), equal to
sandwich's HC0 with the cluster adjustment, t on G - 1 df; Stata's vce(cluster) (CR1S) is
shown to differ, so a change of estimator cannot pass unnoticed.
"""

from __future__ import annotations

import math
from typing import Any

import pytest
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from survey import models as m
from survey.services import dashboard_stats as stats
from survey.services.dashboard import PEERS, build
from tests.helpers import publish

# dput(sleep$extra): ID 1..10 under group 1, then under group 2
GROUP_1 = [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0]
GROUP_2 = [1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4]
REL = 1e-10


def test_everyone_at_both_waves_equals_vcovcl_hc0_and_the_paired_t_test() -> None:
    estimate = stats.change(dict(enumerate(GROUP_1, 1)), dict(enumerate(GROUP_2, 1)))
    assert isinstance(estimate, stats.Estimate)
    # fit <- lm(extra ~ group, data = sleep); coef(fit)["group2"]
    assert estimate.value == pytest.approx(1.580000000000, rel=REL)
    # sqrt(sandwich::vcovCL(fit, cluster = ~ID, type = "HC0", cadjust = TRUE)["group2", "group2"])
    # = sqrt(clubSandwich::vcovCR(fit, cluster = sleep$ID, type = "CR1")["group2", "group2"])
    assert estimate.se == pytest.approx(0.388958723888, rel=REL)
    assert estimate.df == 9  # G - 1
    # coef -/+ qt(0.975, 9) * se
    # = t.test(extra[group == 2], extra[group == 1], paired = TRUE)$conf.int
    assert estimate.ci == pytest.approx((0.700114236723, 2.459885763277), rel=REL)
    # sqrt(clubSandwich::vcovCR(fit, cluster = sleep$ID, type = "CR1S")) (Stata) is not ours
    assert estimate.se != pytest.approx(0.399617100686, rel=1e-3)


def test_people_at_one_wave_only_equal_vcovcl_hc0() -> None:
    # partial: sleep without group 1 of ID 3 and 7 and group 2 of ID 5 (G = 10, N = 17)
    before = {i: x for i, x in enumerate(GROUP_1, 1) if i not in (3, 7)}
    after = {i: x for i, x in enumerate(GROUP_2, 1) if i != 5}
    estimate = stats.change(before, after)
    assert isinstance(estimate, stats.Estimate)
    # coef(lm(extra ~ group, data = partial))["group2"]
    assert estimate.value == pytest.approx(2.100000000000, rel=REL)
    # sqrt(vcovCL(fit, cluster = ~ID, type = "HC0", cadjust = TRUE)["group2", "group2"]) = CR1
    assert estimate.se == pytest.approx(0.572754606709, rel=REL)
    assert estimate.df == 9
    # coef -/+ qt(0.975, 9) * se
    assert estimate.ci == pytest.approx((0.804339063908, 3.395660936092), rel=REL)
    # vcovCR(..., type = "CR1S"), Stata's vce(cluster): a different, wider interval
    assert estimate.se != pytest.approx(0.591538414199, rel=1e-3)


@pytest.mark.parametrize(("before", "after"), [
    ({1: 3.0}, {1: 4.0}),  # one person at both waves
    ({1: 3.0}, {}),  # nobody at the second wave
    ({}, {}),  # nobody at all
])
def test_one_person_or_nobody_gives_no_interval_in_words(
    before: dict[int, float], after: dict[int, float]
) -> None:
    result = stats.change(before, after)
    assert isinstance(result, stats.NoInterval)
    assert result.reason.startswith("no interval: ")
    assert result.value in (None, 1.0)


def test_welch_with_one_person_on_a_side_gives_no_interval() -> None:
    one, many = stats.Summary.of([3.0]), stats.Summary.of(GROUP_1)
    for trust, others in ((one, many), (many, one)):
        result = stats.welch(trust, others)
        assert isinstance(result, stats.NoInterval)
        assert "fewer than two people" in result.reason


def test_a_minimum_group_of_one_gives_words_not_a_division_by_zero(
        db: Session, small_study: dict[str, Any]) -> None:
    """The statistics do not rely on the configured minimum being sane (config refuses < 3)."""
    study, org = small_study["study"], small_study["org"]
    # Leave trust A one peer worker, who answered both waves.
    keep = db.scalars(select(m.Participant.id).join(m.Team)
                      .where(m.Team.organisation_id == org.id, m.Participant.role == m.Role.PEER_WORKER)
                      .order_by(m.Participant.id)).first()
    db.execute(delete(m.ScaleScore).where(m.ScaleScore.response_id.in_(
        select(m.Response.id).join(m.Invitation).join(m.Participant).join(m.Team)
        .where(m.Team.organisation_id == org.id, m.Participant.role == m.Role.PEER_WORKER,
               m.Participant.id != keep))))
    db.commit()
    publish(db, fresh=True)
    board = build(db, study, org.id, min_group=1)
    peers = [c for c in board.changes if c.group == PEERS]
    assert peers and all(c.estimate is None and c.reason for c in peers)
    bench = next(b for b in board.benchmarks if b.group == PEERS)
    assert bench.estimate is None and bench.reason is not None
    assert bench.reason.startswith("no interval: fewer than two people")
    for item in [*board.changes, *board.gap_changes, *board.benchmarks]:
        if item.estimate is not None:
            assert all(math.isfinite(v) for v in (item.estimate.value, item.estimate.se,
                                                  *item.estimate.ci))
