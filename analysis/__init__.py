"""Pure statistics for PeerPulse: data sets, growth models, reliability and change.

DataFrames in, result objects out; nothing here knows of Flask or the database.

The names below are imported from their modules on first use (PEP 562), so that importing
`analysis` (and so the web app, every `flask` command and every worker) does not pay for
pandas, scipy and statsmodels until a statistic is actually computed.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from analysis.agreement import AgreementResults, team_agreement
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

_HOME = {
    "AgreementResults": "agreement",
    "team_agreement": "agreement",
    "reliable_change": "change",
    "team_change": "change",
    "LONG_COLUMNS": "datasets",
    "long_to_wide": "datasets",
    "read_csv": "datasets",
    "AnalysisError": "errors",
    "GrowthSpec": "growth",
    "fit_growth": "growth",
    "AlphaResult": "reliability",
    "OmegaResult": "reliability",
    "cronbach_alpha": "reliability",
    "item_total_correlations": "reliability",
    "mcdonald_omega": "reliability",
    "reliability_table": "reliability",
    "GrowthResults": "results",
    "LRTResult": "results",
    "likelihood_ratio_test": "results",
}

__all__ = [
    "LONG_COLUMNS",
    "AgreementResults",
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
    "team_agreement",
    "team_change",
]


def __getattr__(name: str) -> Any:
    """Import a public name from its module the first time it is asked for."""
    module = _HOME.get(name)
    if module is None:
        raise AttributeError(f"module 'analysis' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"analysis.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """The public names, for completion and `dir()`."""
    return sorted([*globals(), *_HOME])
