"""Reading CSV files and reshaping long data."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from analysis import LONG_COLUMNS, AnalysisError, long_to_wide, read_csv


def test_reference_data_has_the_long_columns(growth: pd.DataFrame) -> None:
    assert list(growth.columns) == list(LONG_COLUMNS)


def test_long_to_wide_has_one_row_per_participant(growth: pd.DataFrame) -> None:
    wide = long_to_wide(growth)
    assert len(wide) == growth["participant"].nunique()
    assert {"identity_w1", "identity_w5"} <= set(wide.columns)
    p1 = growth[growth["participant"] == "P001"].set_index("wave")["score"]
    row = wide[wide["participant"] == "P001"].iloc[0]
    assert row["identity_w2"] == p1[2]


def test_long_to_wide_rejects_duplicates(growth: pd.DataFrame) -> None:
    doubled = pd.concat([growth.iloc[:1], growth], ignore_index=True)
    doubled.attrs["source"] = "x.csv"
    with pytest.raises(AnalysisError, match=r"x.csv: line 3 repeats"):
        long_to_wide(doubled)


def test_read_csv_errors(tmp_path: Path) -> None:
    with pytest.raises(AnalysisError, match="no such file"):
        read_csv(tmp_path / "missing.csv")
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(AnalysisError, match="empty"):
        read_csv(empty)
    header = tmp_path / "header.csv"
    header.write_text("a,b\n")
    with pytest.raises(AnalysisError, match="no data rows"):
        read_csv(header)
    latin = tmp_path / "latin.csv"
    latin.write_bytes("name\ncaf\xe9\n".encode("latin-1"))
    with pytest.raises(AnalysisError, match="UTF-8"):
        read_csv(latin)
