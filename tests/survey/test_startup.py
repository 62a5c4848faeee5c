"""Start-up stays light: the app, and the analysis CLI's fit, import the statistics they use only.

Every flask command, gunicorn worker and scheduler start pays for what importing the app
imports; pandas, numpy, pyreadstat and fhir.resources are imported when an analysis or export
first runs.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

#: What a statistic needs (and the analysis names, which work on DataFrames, may bring pandas).
STATISTICS = ("statsmodels", "scipy", "matplotlib")
#: Everything the web app, its commands and its workers do without until an analysis or export runs.
HEAVY = (*STATISTICS, "pandas", "numpy", "pyreadstat", "fhir.resources")


def _modules_after(code: str, tmp_path: Path) -> list[str]:
    """Which of HEAVY a fresh interpreter has imported after running `code`."""
    probe = f"{code}\nimport json, sys\nprint(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    done = subprocess.run(  # nosec B603 - fixed arguments
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True,
        cwd=tmp_path,
    )
    loaded: list[str] = json.loads(done.stdout.strip().splitlines()[-1])
    return loaded


@pytest.mark.parametrize(
    "code",
    [
        "import survey",
        "import analysis",
        "from survey import create_app\n"
        "app = create_app({'TESTING': True, 'DATABASE_URL': 'sqlite:///app.db'})\n"
        "assert 'research' in app.blueprints and 'api' in app.blueprints",
    ],
    ids=["survey", "analysis", "create_app"],
)
def test_importing_the_app_does_not_import_pandas_or_the_statistics(code: str, tmp_path: Path) -> None:
    assert _modules_after(code, tmp_path) == []


def test_the_analysis_names_do_not_import_the_statistics(tmp_path: Path) -> None:
    """The analysis names bring pandas (they take DataFrames) but not the statistics libraries."""
    code = "from analysis import AnalysisError, GrowthResults, cronbach_alpha, fit_growth"
    assert [m for m in _modules_after(code, tmp_path) if m in STATISTICS] == []


def test_the_fast_fit_does_not_import_statsmodels(tmp_path: Path) -> None:
    """The statistics are imported when used: a fast-engine fit needs scipy, not statsmodels."""
    code = (
        "import numpy as np, pandas as pd\n"
        "from analysis import fit_growth\n"
        "rng = np.random.default_rng(1)\n"
        "n = 60\n"
        "df = pd.DataFrame({'p': np.repeat(np.arange(n), 3), 't': np.tile([0.0, 3.0, 6.0], n)})\n"
        "df['y'] = 3 + 0.1 * df['t'] + np.repeat(rng.normal(0, .5, n), 3) + rng.normal(0, .3, 3 * n)\n"
        "fit_growth(df, 'y', 't', 'p', engine='fast').summary()"
    )
    assert "statsmodels" not in _modules_after(code, tmp_path)
