"""Reliable Change Index and team-level change."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis import AnalysisError, fit_growth, reliable_change, team_change


def _two_waves(pre: list[float], post: list[float]) -> pd.DataFrame:
    ids = [f"P{i}" for i in range(len(pre))]
    return pd.DataFrame(
        {"participant": ids * 2, "wave": [1] * len(pre) + [2] * len(post), "score": pre + post}
    )


def test_rci_follows_jacobson_truax() -> None:
    # SD 1 and reliability 0.5 give S_diff = sqrt(2) * sqrt(0.5) = 1, so RCI = change.
    df = _two_waves([1.0, 2.0, 3.0], [3.5, 2.5, 0.5])
    out = reliable_change(df, reliability=0.5, wave_from=1, wave_to=2, sd_baseline=1.0)
    assert list(out["rci"]) == pytest.approx([2.5, 0.5, -2.5])
    assert list(out["category"]) == ["improved", "no reliable change", "deteriorated"]
    worse = reliable_change(df, 0.5, 1, 2, sd_baseline=1.0, higher_is_better=False)
    assert list(worse["category"]) == ["deteriorated", "no reliable change", "improved"]


def test_rci_uses_baseline_sd_and_pairs_only() -> None:
    df = _two_waves([1.0, 2.0, 3.0], [2.0, 2.0, 3.0]).iloc[:-1]  # P2 missed wave 2
    out = reliable_change(df, reliability=0.8, wave_from=1, wave_to=2)
    s_diff = np.sqrt(2.0) * 1.0 * np.sqrt(0.2)  # SD of 1, 2, 3 is 1
    assert list(out["participant"]) == ["P0", "P1"]
    assert out["rci"].iloc[0] == pytest.approx(1.0 / s_diff)


def test_rci_rejects_bad_input() -> None:
    df = _two_waves([1.0, 2.0], [2.0, 3.0])
    with pytest.raises(AnalysisError, match="reliability must be"):
        reliable_change(df, 1.2, 1, 2)
    with pytest.raises(AnalysisError, match="no scores at wave 3"):
        reliable_change(df, 0.8, 1, 3)
    twice = pd.concat([df, df])
    with pytest.raises(AnalysisError, match="more than one 'score'"):
        reliable_change(twice, 0.8, 1, 2)


def test_team_change_is_slope_times_interval(growth: pd.DataFrame) -> None:
    out = team_change(growth, 0.0, 12.0)
    assert len(out) == growth["team"].nunique()
    res = fit_growth(growth, "score", "months", "participant", by="team")
    fe = res.fixed_effects["estimate"]
    first, second = out.iloc[0], out.iloc[1]
    assert first["estimate"] == pytest.approx(12.0 * fe["months"])
    assert second["estimate"] == pytest.approx(
        12.0 * (fe["months"] + fe[f"months:team[T.{second['team']}]"])
    )
    assert first["se"] == pytest.approx(12.0 * res.fixed_effects.loc["months", "se"])
    assert (out["ci_low"] < out["estimate"]).all()
    assert (out["estimate"] < out["ci_high"]).all()
