"""Plots of growth models: predicted trajectories with bands beside observed means."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from analysis.errors import AnalysisError

if TYPE_CHECKING:
    from analysis.results import GrowthResults

#: Distinct time values up to which observed means are taken at each value; beyond, in bins.
MAX_DISTINCT_TIMES = 12
FORMATS = (".png", ".svg")


def observed_means(results: GrowthResults, observed_by: str | None = None) -> pd.DataFrame:
    """Return mean time, mean outcome, its SE and n per level of ``by`` and occasion.

    Occasions are the values of ``observed_by`` (e.g. wave) if given, else the distinct times
    when there are few, else eight bins of time with equal counts.
    """
    spec = results.spec
    data = results.data.copy()
    if observed_by is not None:
        if observed_by not in data.columns:
            raise AnalysisError(
                f"observed_by={observed_by!r} is not a column the model was fitted with; "
                f"pass one of: {', '.join(data.columns)}"
            )
        occasion = data[observed_by]
    elif data[spec.time].nunique() <= MAX_DISTINCT_TIMES:
        occasion = data[spec.time]
    else:
        occasion = pd.qcut(data[spec.time], 8, labels=False, duplicates="drop")
    keys = [occasion] if spec.by is None else [data[spec.by], occasion]
    grouped = data.groupby(keys, observed=True)
    out = grouped.agg(
        time=(spec.time, "mean"),
        mean=(spec.outcome, "mean"),
        sd=(spec.outcome, "std"),
        n=(spec.outcome, "size"),
    )
    out["se"] = out["sd"] / np.sqrt(out["n"])
    out = out.reset_index(drop=spec.by is None)
    if spec.by is not None:
        out = out.rename(columns={out.columns[0]: spec.by})
    return out[[c for c in (spec.by, "time", "mean", "se", "n") if c is not None]]


def plot_trajectories(
    results: GrowthResults, path: str | Path | None = None, observed_by: str | None = None
) -> Figure:
    """Draw the predicted mean per level with its 95% band and the observed means (±1.96 SE)."""
    spec = results.spec
    if path is not None and Path(path).suffix.lower() not in FORMATS:
        raise AnalysisError(f"{path}: the plot can be saved as .png or .svg only")
    pred = results.predict_trajectories()
    obs = observed_means(results, observed_by)
    # A figure with its own Agg canvas: no pyplot state, and the process's backend is left alone.
    fig = Figure(figsize=(7.0, 4.5), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    for k, level in enumerate(results.levels()):
        colour = f"C{k}"
        p = pred if spec.by is None else pred[pred[spec.by] == level]
        o = obs if spec.by is None else obs[obs[spec.by] == level]
        label = "all" if level is None else str(level)
        ax.plot(p[spec.time], p["estimate"], color=colour, label=f"{label} (model)")
        ax.fill_between(p[spec.time], p["ci_low"], p["ci_high"], color=colour, alpha=0.2)
        ax.errorbar(
            o["time"], o["mean"], yerr=1.96 * o["se"].fillna(0.0), fmt="o", color=colour,
            capsize=3, label=f"{label} (observed mean)",
        )
    ax.set_xlabel(spec.time)
    ax.set_ylabel(spec.outcome)
    ax.set_title(f"{spec.outcome}: predicted trajectories (95% CI) and observed means")
    ax.legend(fontsize="small")
    if path is not None:
        fig.savefig(path)
    return fig
