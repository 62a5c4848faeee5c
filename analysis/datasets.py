"""Long and wide data sets: reading exported CSV files and checking columns."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from analysis.contract import (
    numeric_column,
    read_table,
    require_columns,
    row_label,
    source_of,
)
from analysis.errors import AnalysisError

__all__ = ["LONG_COLUMNS", "long_to_wide", "numeric_column", "read_csv", "require_columns",
           "source_of"]

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


#: Reading a file is the input contract's first check (analysis.contract.read_table).
read_csv = read_table


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
            f"{source_of(df)}: {row_label(df, pos)} repeats the combination of "
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
