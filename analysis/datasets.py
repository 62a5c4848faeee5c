"""Long and wide data sets: reading exported CSV files and checking columns."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.errors import AnalysisError

#: Columns of the long format the survey app exports: one row per participant x wave x scale.
LONG_COLUMNS: tuple[str, ...] = (
    "participant",
    "team",
    "trust",
    "role",
    "wave",
    "months",
    "scale",
    "score",
    "items_answered",
)


def read_csv(path: str | Path) -> pd.DataFrame:
    """Read a CSV file into a DataFrame, turning every read failure into an AnalysisError."""
    p = Path(path)
    if not p.is_file():
        raise AnalysisError(f"{p}: no such file")
    try:
        df = pd.read_csv(p)
    except pd.errors.EmptyDataError:
        raise AnalysisError(f"{p}: the file is empty (expected a header row and data)") from None
    except pd.errors.ParserError as exc:
        raise AnalysisError(f"{p}: not a readable CSV file ({exc})") from None
    except UnicodeDecodeError:
        raise AnalysisError(f"{p}: not UTF-8 text; save the file as UTF-8 CSV") from None
    if df.empty:
        raise AnalysisError(f"{p}: the file has a header row but no data rows")
    df.attrs["source"] = str(p)
    return df


def source_of(df: pd.DataFrame) -> str:
    """Name the data's origin for error messages: its file, or 'the data'."""
    return str(df.attrs.get("source", "the data"))


def require_columns(df: pd.DataFrame, columns: Sequence[str]) -> None:
    """Raise an AnalysisError naming each missing column and listing the columns there are."""
    missing = [c for c in columns if c not in df.columns]
    if missing:
        names = ", ".join(repr(c) for c in missing)
        there = ", ".join(str(c) for c in df.columns)
        noun = "column" if len(missing) == 1 else "columns"
        raise AnalysisError(f"{source_of(df)}: no {noun} {names}; the columns are: {there}")


def numeric_column(df: pd.DataFrame, column: str) -> pd.Series:
    """Return a column as floats, or raise naming the first value that is not a number."""
    series = df[column]
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        return series.astype(float)
    converted = pd.to_numeric(series, errors="coerce")
    bad = converted.isna() & series.notna()
    if bad.any():
        pos = int(np.flatnonzero(bad.to_numpy())[0])
        where = _row_label(df, pos)
        raise AnalysisError(
            f"{source_of(df)}: column {column!r} must be numeric, but {where} holds "
            f"{series.iloc[pos]!r} ({int(bad.sum())} non-numeric value(s) in all)"
        )
    return converted.astype(float)


def _row_label(df: pd.DataFrame, pos: int) -> str:
    """Say where row ``pos`` is: the CSV line for data read from a file, else the row index."""
    if "source" in df.attrs and isinstance(df.index, pd.RangeIndex):
        return f"line {pos + 2}"  # line 1 is the header
    return f"row {df.index[pos]!r}"


def long_to_wide(
    df: pd.DataFrame,
    index: Sequence[str] = ("participant", "team", "trust", "role"),
    columns: Sequence[str] = ("scale", "wave"),
    values: str = "score",
) -> pd.DataFrame:
    """Pivot long data to one row per ``index`` with a column per scale and wave (e.g. identity_w1)."""
    require_columns(df, [*index, *columns, values])
    dupes = df.duplicated([*index, *columns])
    if dupes.any():
        pos = int(np.flatnonzero(dupes.to_numpy())[0])
        raise AnalysisError(
            f"{source_of(df)}: {_row_label(df, pos)} repeats the combination of "
            f"{', '.join([*index, *columns])}; long data must hold one row per combination"
        )
    wide = df.pivot(index=list(index), columns=list(columns), values=values)
    wide.columns = ["_".join(_label(c, v) for c, v in zip(columns, key, strict=True))
                    for key in _as_tuples(wide.columns)]
    return wide.reset_index()


def _as_tuples(cols: pd.Index) -> list[tuple[object, ...]]:
    """Return pivoted column keys as tuples whatever the number of levels."""
    return [k if isinstance(k, tuple) else (k,) for k in cols]


def _label(column: str, value: object) -> str:
    """Format one part of a wide column name: waves as w1, w2, other values as they are."""
    return f"w{value}" if column == "wave" else str(value)
