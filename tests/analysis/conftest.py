"""Fixtures for the analysis tests: the reference data sets that R fitted."""

from __future__ import annotations

from pathlib import Path

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
