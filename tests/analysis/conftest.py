"""Fixtures for the analysis tests: the reference data sets that R fitted, and R's numbers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from analysis import read_csv

REFERENCE = Path(__file__).resolve().parent / "reference"


@pytest.fixture(scope="session")
def growth_path() -> Path:
    """Return the path of the long reference data (150 participants x 5 waves)."""
    return REFERENCE / "growth.csv"


@pytest.fixture
def growth(growth_path: Path) -> pd.DataFrame:
    """Return the long reference data as read by the package."""
    return read_csv(growth_path)


@pytest.fixture
def items() -> pd.DataFrame:
    """Return the item reference data (six items, waves 1 and 2)."""
    return read_csv(REFERENCE / "items.csv")


@pytest.fixture(scope="session")
def r_ref() -> dict[str, Any]:
    """Return what reference/reference.R wrote to reference.json, keyed by the R call behind each number.

    Regenerate with ``cd tests/analysis/reference && Rscript reference.R > reference.out 2>&1``;
    the numbers are written at full double precision (jsonlite, digits = NA).
    """
    data: dict[str, Any] = json.loads((REFERENCE / "reference.json").read_text(encoding="utf-8"))
    return data
