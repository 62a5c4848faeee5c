"""Typed reads of fields from parsed YAML mappings, turning each fault into a Problem."""

from __future__ import annotations

import re
from typing import Any

from .model import Problem
from .source import SourceMap

ID_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
_MISSING = object()


class FieldReader:
    """Collects the problems found while reading the fields of one file."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[Problem] = []

    def add(self, line: int | None, item: str | None, field: str | None, message: str) -> None:
        """Record one problem."""
        self.problems.append(Problem(self.file, line, item, field, message))

    def mapping(
        self, value: Any, line: int | None, item: str | None, what: str
    ) -> SourceMap | None:
        """Return `value` if it is a mapping, else record a problem and return None."""
        if isinstance(value, SourceMap):
            return value
        self.add(line, item, None, f"{what} must be a mapping of 'field: value', got {value!r}")
        return None

    def check_keys(self, data: SourceMap, allowed: tuple[str, ...], item: str | None) -> None:
        """Record keys given twice, and keys not in `allowed` (usually a typo)."""
        for key, line, first in data.duplicate_keys:
            self.add(line, item, key, f"given twice (first on line {first}); keep one")
        for key in data:
            if key not in allowed:
                known = ", ".join(allowed)
                self.add(data.line_of(str(key)), item, str(key), f"unknown field; known: {known}")

    def _get(self, data: SourceMap, key: str, item: str | None, required: bool) -> Any:
        value = data.get(key, _MISSING)
        if value is _MISSING or value is None:
            if required:
                self.add(data.line, item, key, "required field is missing")
            return _MISSING
        return value

    def text(
        self, data: SourceMap, key: str, item: str | None, required: bool = True
    ) -> str | None:
        """A non-empty string field, with surrounding white space removed."""
        value = self._get(data, key, item, required)
        if value is _MISSING:
            return None
        if not isinstance(value, str) or not value.strip():
            self.add(data.line_of(key), item, key, f"must be non-empty text, got {value!r}")
            return None
        return " ".join(value.split())

    def identifier(self, data: SourceMap, key: str, item: str | None) -> str | None:
        """A required id: lower case letters, digits and underscores, starting with a letter."""
        value = self._get(data, key, item, True)
        if value is _MISSING:
            return None
        if not isinstance(value, str) or not ID_PATTERN.match(value):
            self.add(
                data.line_of(key), item, key,
                f"{value!r} is not a valid id (use lower case letters, digits and _, "
                "starting with a letter)",
            )
            return None
        return value

    def integer(self, data: SourceMap, key: str, item: str | None) -> int | None:
        """A required whole number."""
        value = self._get(data, key, item, True)
        if value is _MISSING:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.add(data.line_of(key), item, key, f"must be a whole number, got {value!r}")
            return None
        return value

    def number(self, data: SourceMap, key: str, item: str | None) -> float | None:
        """A required number (whole or decimal)."""
        value = self._get(data, key, item, True)
        if value is _MISSING:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
            self.add(data.line_of(key), item, key, f"must be a number, got {value!r}")
            return None
        return float(value)

    def flag(self, data: SourceMap, key: str, item: str | None, required: bool) -> bool | None:
        """A true/false field; None if missing (and optional) or invalid."""
        value = self._get(data, key, item, required)
        if value is _MISSING:
            return None
        if not isinstance(value, bool):
            self.add(data.line_of(key), item, key, f"must be true or false, got {value!r}")
            return None
        return value

    def share(self, data: SourceMap, key: str, item: str | None) -> float | None:
        """A required share: a number greater than 0 and at most 1."""
        value = self._get(data, key, item, True)
        if value is _MISSING:
            return None
        ok = isinstance(value, int | float) and not isinstance(value, bool) and 0 < value <= 1
        if not ok:
            self.add(
                data.line_of(key), item, key,
                f"must be a share greater than 0 and at most 1 (e.g. 0.6), got {value!r}",
            )
            return None
        return float(value)

    def sequence(self, data: SourceMap, key: str, item: str | None) -> list[Any]:
        """A required non-empty list; an empty list (and a problem) when absent or wrong."""
        value = self._get(data, key, item, True)
        if value is _MISSING:
            return []
        if not isinstance(value, list) or not value:
            self.add(data.line_of(key), item, key, "must be a non-empty list")
            return []
        return value
