"""Trajectory plots: files in both formats, and observed means beside the model."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from analysis import AnalysisError, fit_growth
from analysis.plots import observed_means


def test_png_and_svg_are_written(growth: pd.DataFrame, tmp_path: Path) -> None:
    res = fit_growth(growth, "score", "months", "participant", by="role")
    res.plot_trajectories(tmp_path / "t.png")
    assert (tmp_path / "t.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    fig = res.plot_trajectories(tmp_path / "t.svg")
    assert "<svg" in (tmp_path / "t.svg").read_text()
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert "peer_worker (model)" in labels
    assert "colleague (observed mean)" in labels
    with pytest.raises(AnalysisError, match=r"\.png or \.svg"):
        res.plot_trajectories(tmp_path / "t.pdf")


def test_observed_means_by_wave(growth: pd.DataFrame) -> None:
    res = fit_growth(growth, "score", "months", "participant", by="role")
    obs = observed_means(res, observed_by="wave")
    assert len(obs) == 10  # 2 roles x 5 waves
    first = growth[(growth["wave"] == 1) & (growth["role"] == "colleague")]["score"]
    row = obs[(obs["role"] == "colleague")].iloc[0]
    assert row["mean"] == pytest.approx(first.mean())
    assert row["n"] == len(first)


def test_predicted_trajectories_have_bands(growth: pd.DataFrame) -> None:
    res = fit_growth(growth, "score", "months", "participant", by="role")
    pred = res.predict_trajectories([0.0, 12.0])
    start = pred[(pred["role"] == "colleague") & (pred["months"] == 0.0)].iloc[0]
    assert start["estimate"] == pytest.approx(res.fixed_effects.loc["Intercept", "estimate"])
    assert start["se"] == pytest.approx(res.fixed_effects.loc["Intercept", "se"])
    assert (pred["ci_low"] < pred["estimate"]).all()


def test_importing_and_plotting_leave_the_process_backend_alone(growth_path: Path,
                                                                tmp_path: Path) -> None:
    """A program that chose its own backend keeps it; pyplot's global state is never touched."""
    import subprocess
    import sys

    script = (
        "import sys, matplotlib as mpl\n"
        "mpl.use('svg')\n"
        "from analysis import fit_growth, read_csv\n"
        "from analysis.plots import plot_trajectories\n"
        f"res = fit_growth(read_csv({str(growth_path)!r}), 'score', 'months', 'participant')\n"
        f"plot_trajectories(res, {str(tmp_path / 't.png')!r})\n"
        "print(mpl.get_backend(), 'matplotlib.pyplot' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                         timeout=120, cwd=Path(__file__).parents[2])
    assert out.stdout.split() == ["svg", "False"]
    assert (tmp_path / "t.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
