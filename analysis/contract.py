"""The input contract every analysis goes through: what a data set must be before a number is given.

One module so that the CLI, the research pages and the API refuse the same things in the same
words (and so that no analysis answers nonsense):

* a non-finite number in a file (``inf``, ``-inf``, ``1e999``) is refused naming the file,
  line and column;
* group labels are shown as written (``label``): "1", never "1.0" because another cell of
  the column is empty, never ``np.int64(2)``;
* a row that repeats an earlier row exactly is refused naming both lines when the rows say
  whose they are (a participant column): a file exported twice and concatenated would
  otherwise be counted twice by one analysis and once by another;
* a column read as numbers must hold only finite numbers (text is refused with its line);
* names given twice (``--items A A B``) are refused;
* an outcome that takes one value has nothing to model and is refused in words;
* every analysis says how many rows it used and how many it left out, and why.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.errors import AnalysisError

#: Largest magnitude a number may have: beyond it a double no longer holds steps of 1 (2^53 is
#: about 9e15) and sums of squares overflow; no score, answer or time is anywhere near it.
MAX_MAGNITUDE = 1e15


def read_table(path: str | Path, identity: Sequence[str] = ()) -> pd.DataFrame:
    """Read a CSV file, refusing what no analysis can use; AnalysisError says what and where.

    ``identity`` names the columns that say whose row it is (e.g. participant): when the file
    has one of them, a row repeating an earlier row exactly is refused. Without one, equal rows
    are two people who answered alike (psych's bfi has 56 such), and they stay.
    """
    p = Path(path)
    if not p.is_file():
        raise AnalysisError(f"{p}: no such file")
    try:
        df = pd.read_csv(p)
        raw = pd.read_csv(p, dtype=str, keep_default_na=False)
    except pd.errors.EmptyDataError:
        raise AnalysisError(f"{p}: the file is empty (expected a header row and data)") from None
    except pd.errors.ParserError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else "unreadable"
        raise AnalysisError(f"{p}: not a readable CSV file ({first})") from None
    except UnicodeDecodeError:
        raise AnalysisError(f"{p}: not UTF-8 text; save the file as UTF-8 CSV") from None
    if df.empty:
        raise AnalysisError(f"{p}: the file has a header row but no data rows")
    with p.open(encoding="utf-8", errors="replace", newline="") as handle:
        header = next(csv.reader(handle), [])
    twice = sorted({c for c in header if header.count(c) > 1}, key=header.index)
    if twice:
        raise AnalysisError(f"{p}: the header names column {twice[0]!r} more than once; give "
                            "each column its own name")
    df.attrs["source"] = str(p)
    _refuse_non_finite(df, p)
    if any(c in raw.columns for c in identity):
        _refuse_repeated_rows(raw, p)
    return df


def _refuse_non_finite(df: pd.DataFrame, path: Path) -> None:
    """Raise naming the first cell whose number is infinite (inf, -inf, or too large for a float)."""
    for number, column in enumerate(df.columns, start=1):
        values = df[column]
        if not pd.api.types.is_float_dtype(values):
            continue
        bad = np.isinf(values.to_numpy(float))
        if bad.any():
            pos = int(np.flatnonzero(bad)[0])
            raise AnalysisError(
                f"{path}: line {pos + 2}, column {number} ({column!r}) holds {values.iloc[pos]} "
                f"({int(bad.sum())} non-finite value(s) in the column); every number must be "
                "finite: correct or empty these cells"
            )


def _refuse_repeated_rows(raw: pd.DataFrame, path: Path) -> None:
    """Raise naming the lines of rows that repeat an earlier row cell for cell."""
    repeats = raw.duplicated(keep="first")
    if not repeats.any():
        return
    pos = np.flatnonzero(repeats.to_numpy())
    first_row = raw.iloc[pos[0]]
    same = (raw == first_row).all(axis=1).to_numpy()
    original = int(np.flatnonzero(same)[0])
    lines = ", ".join(str(p + 2) for p in pos[:5]) + (", ..." if len(pos) > 5 else "")
    raise AnalysisError(
        f"{path}: line {pos[0] + 2} repeats line {original + 2} exactly ({len(pos)} repeated "
        f"row(s), at line(s) {lines}); remove the repeats, a row must not be counted twice"
    )


def source_of(df: pd.DataFrame) -> str:
    """Name the data's origin for error messages: its file, or 'the data'."""
    return str(df.attrs.get("source", "the data"))


def label(value: object) -> str:
    """A group or team label as a person wrote it: 2 not np.int64(2), 1 not 1.0."""
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    if isinstance(value, np.generic):
        return str(value.item())
    return str(value)


def native(value: object) -> object:
    """A table's group value as plain Python (np.int64(2) becomes 2), for tables and JSON."""
    return value.item() if isinstance(value, np.generic) else value


def row_label(df: pd.DataFrame, pos: int) -> str:
    """Say where row ``pos`` is: the CSV line for data read from a file, else the row index."""
    if "source" in df.attrs and isinstance(df.index, pd.RangeIndex):
        return f"line {pos + 2}"  # line 1 is the header
    return f"row {label(df.index[pos])}"


def require_columns(df: pd.DataFrame, columns: Sequence[str]) -> None:
    """Raise an AnalysisError naming each missing column and listing the columns there are."""
    missing = [c for c in columns if c not in df.columns]
    if missing:
        names = ", ".join(repr(c) for c in missing)
        there = ", ".join(str(c) for c in df.columns)
        noun = "column" if len(missing) == 1 else "columns"
        raise AnalysisError(f"{source_of(df)}: no {noun} {names}; the columns are: {there}")


def distinct_names(names: Iterable[str], what: str = "item") -> list[str]:
    """Return the names in order, refusing a name given more than once (``--items A A B``)."""
    given = [str(n) for n in names]
    twice = sorted({n for n in given if given.count(n) > 1}, key=given.index)
    if twice:
        raise AnalysisError(
            f"{what} {', '.join(map(repr, twice))} is named more than once; name each {what} once"
        )
    return given


def numeric_column(df: pd.DataFrame, column: str) -> pd.Series:
    """Return a column as finite floats (empty cells NaN), or raise naming the first bad cell."""
    series = df[column]
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        converted = series.astype(float)
    else:
        converted = pd.to_numeric(series, errors="coerce")
        bad = converted.isna() & series.notna() & (series.astype(str).str.strip() != "")
        if bad.any():
            pos = int(np.flatnonzero(bad.to_numpy())[0])
            raise AnalysisError(
                f"{source_of(df)}: column {column!r} must be numeric, but "
                f"{row_label(df, pos)} holds {series.iloc[pos]!r} ({int(bad.sum())} "
                "non-numeric value(s) in all)"
            )
        converted = converted.astype(float)
    values = converted.to_numpy()
    infinite = np.isinf(values)
    if infinite.any():
        pos = int(np.flatnonzero(infinite)[0])
        raise AnalysisError(
            f"{source_of(df)}: column {column!r} must hold finite numbers, but "
            f"{row_label(df, pos)} holds {converted.iloc[pos]} ({int(infinite.sum())} "
            "non-finite value(s) in all)"
        )
    huge = np.abs(np.nan_to_num(values)) > MAX_MAGNITUDE
    if huge.any():
        pos = int(np.flatnonzero(huge)[0])
        raise AnalysisError(
            f"{source_of(df)}: column {column!r} holds {converted.iloc[pos]:g} at "
            f"{row_label(df, pos)} ({int(huge.sum())} value(s) beyond ±{MAX_MAGNITUDE:g}); no "
            "score, answer or time is that large: correct or empty these cells"
        )
    return converted


def require_variation(values: pd.Series, column: str, src: str, what: str = "outcome") -> None:
    """Refuse a column that takes a single value: there is nothing to model or compare."""
    distinct = pd.unique(values.dropna())
    if len(distinct) == 1:
        raise AnalysisError(
            f"{src}: the {what} {column!r} is {label(distinct[0])} in every row used, so there is "
            "no variation to analyse; choose another column or check the export"
        )


@dataclass(frozen=True)
class RowsUsed:
    """How many rows an analysis read, used, and left out (and why)."""

    read: int
    used: int
    reason: str = "a missing value"

    @property
    def dropped(self) -> int:
        """Rows left out."""
        return self.read - self.used

    def sentence(self) -> str:
        """The count in words, for every output."""
        if not self.dropped:
            return f"used all {self.used} rows"
        return f"used {self.used} of {self.read} rows ({self.dropped} left out: {self.reason})"

    def to_dict(self) -> dict[str, int | str]:
        """The counts for JSON output."""
        return {"rows_read": self.read, "rows_used": self.used, "rows_dropped": self.dropped,
                "dropped_because": self.reason if self.dropped else ""}
