"""The one error services raise for input a person can correct: `InputError`, listing problems.

Every service refuses bad input the same way: it raises InputError carrying every problem it
found (field, message and, for files, the line), and writes nothing. Web forms show each
problem beside its field (survey.admin.forms.save_or_show), commands print one per line.

Two conditions are deliberately not InputError, because no one can fix them by correcting
what they typed or uploaded:
- responses.InstrumentChanged and instrument_versions.InstrumentVersionChanged: a questionnaire
  file was edited under a running survey; a server-side state error that needs an
  administrator, not the person answering;
- survey.config.ConfigError: the deployment's settings are wrong; start-up stops.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

# Characters no typed text needs and a database may refuse: NUL (PostgreSQL text cannot hold
# it; it was a 500), the other C0 controls but tab, newline and carriage return, DEL, and lone
# surrogates (not encodable as UTF-8).
UNSTORABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def character_problem(value: str | None) -> str | None:
    """Why `value` cannot be stored (naming the character and where it is), or None."""
    found = UNSTORABLE.search(value or "")
    if found is None:
        return None
    char = found.group()
    name = ("NUL" if char == "\x00" else "unpaired surrogate" if ord(char) >= 0xD800
            else unicodedata.name(char, "control character"))
    return (f"holds a character that cannot be stored (U+{ord(char):04X} {name}) at character "
            f"{found.start() + 1}; remove it and try again")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input: which field (or column), why, and on which line of a file."""

    field: str | None
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = []
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.field:
            where.append(f"column {self.field}" if self.line is not None else self.field)
        return f"{', '.join(where)}: {self.message}" if where else self.message


class InputError(ValueError):
    """Input was refused; nothing was written. `problems` lists every problem found.

    Accepts a list of Problem, a mapping of field name to message (the older form), or one
    message about the input as a whole.
    """

    def __init__(self, problems: Iterable[Problem] | Mapping[str, str] | str) -> None:
        if isinstance(problems, str):
            found = [Problem(None, problems)]
        elif isinstance(problems, Mapping):
            found = [Problem(name, message) for name, message in problems.items()]
        else:
            found = list(problems)
        super().__init__("; ".join(str(p) for p in found))
        self.problems: list[Problem] = found

    def by_field(self) -> dict[str, str]:
        """Field name -> message (the problems of one field joined); "" for the input as a whole."""
        fields: dict[str, str] = {}
        for problem in self.problems:
            key = problem.field or ""
            fields[key] = f"{fields[key]} {problem.message}" if key in fields else problem.message
        return fields

    def messages(self) -> list[str]:
        """Each problem as a sentence, in order."""
        return [str(p) for p in self.problems]
