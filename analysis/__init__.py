"""Pure statistics for PeerPulse: data sets, growth models, reliability and change.

DataFrames in, result objects out; nothing here knows of Flask or the database.
"""

from analysis.change import reliable_change, team_change
from analysis.datasets import LONG_COLUMNS, long_to_wide, read_csv
from analysis.errors import AnalysisError
from analysis.growth import GrowthSpec, fit_growth
from analysis.reliability import (
    AlphaResult,
    OmegaResult,
    cronbach_alpha,
    item_total_correlations,
    mcdonald_omega,
    reliability_table,
)
from analysis.results import GrowthResults, LRTResult, likelihood_ratio_test

__all__ = [
    "LONG_COLUMNS",
    "AlphaResult",
    "AnalysisError",
    "GrowthResults",
    "GrowthSpec",
    "LRTResult",
    "OmegaResult",
    "cronbach_alpha",
    "fit_growth",
    "item_total_correlations",
    "likelihood_ratio_test",
    "long_to_wide",
    "mcdonald_omega",
    "read_csv",
    "reliability_table",
    "reliable_change",
    "team_change",
]
