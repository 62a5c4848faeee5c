"""The one way PeerPulse writes CSV: every text cell neutralised against formula injection.

A spreadsheet runs a cell that begins with `=`, `+`, `-` or `@` as a formula (tab and carriage
return are read past before that test), so a free-text answer such as `=HYPERLINK(...)` would
become a live link in a researcher's copy of the export. Following OWASP's rule, such a text
cell is written with a leading single quote, which spreadsheets show as text. Numbers stay
numbers: int and float values, and text that is exactly a number ("-9", "+0.3", "1e-3"), are
written unchanged. Every CSV the product writes (the export, the API's long CSV, the dashboard
and team CSVs, the codebook, the REDCap dictionary, the enrolment template) goes through here.
The module lives in `instruments/` (pure Python) so that `survey/` and `instruments/` share it.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TextIO

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def neutralise(value: Any) -> Any:
    """The cell as it is safe to write: text that a spreadsheet would run gets a leading quote."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def neutralise_row(row: Iterable[Any]) -> list[Any]:
    """Every cell of a row neutralised."""
    return [neutralise(cell) for cell in row]


def write_rows(handle: TextIO, rows: Iterable[Sequence[Any]], lineterminator: str = "\r\n") -> None:
    """Write rows (the header first, if any) as CSV, each cell neutralised."""
    writer = csv.writer(handle, lineterminator=lineterminator)
    writer.writerows(neutralise_row(row) for row in rows)


def write_dicts(handle: TextIO, fieldnames: Sequence[str], rows: Iterable[Mapping[str, Any]],
                lineterminator: str = "\r\n") -> None:
    """Write a header and one row per mapping (missing keys empty), each cell neutralised."""
    write_rows(handle, [list(fieldnames), *([row.get(f, "") for f in fieldnames] for row in rows)],
               lineterminator)


def rows_text(rows: Iterable[Sequence[Any]], lineterminator: str = "\r\n") -> str:
    """Rows as CSV text, each cell neutralised."""
    buffer = io.StringIO()
    write_rows(buffer, rows, lineterminator)
    return buffer.getvalue()


def dicts_text(fieldnames: Sequence[str], rows: Iterable[Mapping[str, Any]],
               lineterminator: str = "\r\n") -> str:
    """A header and one row per mapping as CSV text, each cell neutralised."""
    buffer = io.StringIO()
    write_dicts(buffer, fieldnames, rows, lineterminator)
    return buffer.getvalue()


def frame_text(frame: Any) -> str:
    """A pandas DataFrame as CSV text (no index): its text cells and header neutralised.

    Numeric columns are left to pandas, so they are written exactly as `to_csv` writes them.
    """
    safe = frame.copy()
    for column in safe.columns:
        if safe[column].dtype.kind not in "biufcmM":  # text, categories, mixed: not numbers or dates
            safe[column] = safe[column].astype(object).map(neutralise, na_action="ignore")
    safe.columns = [neutralise(str(c)) for c in safe.columns]
    text: str = safe.to_csv(index=False)
    return text
