"""REDCap branching logic to `show_if` conditions, for the part the instrument schema can hold.

Accepted: ``[field] = 'v'``, ``<>`` (also ``!=``), ``>``, ``<``, ``>=``, ``<=`` with a number
(quoted or not), ``and``, ``or``, parentheses, a checkbox option ``[field(code)] = '1'`` (or
``'0'``), and ``[peerpulse_role] = 'peer_worker'`` for the participant's role (the field
PeerPulse's own dictionaries carry for it). Anything else (functions, smart variables, events,
arithmetic, text values) is refused with its column, never dropped. Pure Python.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .conditions import ROLE_FIELD, ROLES

_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<field>\[(?P<name>[a-z][a-z0-9_]*)(?:\((?P<code>[A-Za-z0-9_-]+)\))?\])
  | (?P<op><>|!=|>=|<=|=|>|<)
  | (?P<string>'[^']*'|"[^"]*")
  | (?P<number>-?\d+(?:\.\d+)?)
  | (?P<word>and|or|AND|OR)\b
  | (?P<open>\()
  | (?P<close>\))
""", re.VERBOSE)
_OPS = {"=": "equals", "<>": "not_equals", "!=": "not_equals", ">": "above", "<": "below",
        ">=": "min", "<=": "max"}


class LogicError(ValueError):
    """Branching logic outside what the schema can hold; `column` is 1-based."""

    def __init__(self, message: str, column: int) -> None:
        super().__init__(message)
        self.column = column


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str
    column: int
    name: str | None = None
    code: str | None = None


def _tokens(logic: str) -> list[_Token]:
    found: list[_Token] = []
    position = 0
    while position < len(logic):
        match = _TOKEN.match(logic, position)
        if match is None:
            raise LogicError(f"cannot read {logic[position:position + 20]!r} (supported: "
                             "[field] with = <> > < >= <=, and, or, parentheses, "
                             "[checkbox(code)] = '1')", position + 1)
        kind = match.lastgroup or ""
        if kind in ("name", "code"):
            kind = "field"
        if kind != "space":
            found.append(_Token(kind, match.group(0), position + 1, match.group("name"),
                                match.group("code")))
        position = match.end()
    return found


class _Parser:
    def __init__(self, logic: str, known: dict[str, str], checkbox: set[str]) -> None:
        self.tokens = _tokens(logic)
        self.end = len(logic) + 1
        self.index = 0
        self.known = known  # REDCap field name -> item id
        self.checkbox = checkbox

    def _peek(self) -> _Token | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def _take(self, kind: str, what: str) -> _Token:
        token = self._peek()
        if token is None or token.kind != kind:
            column = token.column if token else self.end
            got = repr(token.text) if token else "the end"
            raise LogicError(f"expected {what}, found {got}", column)
        self.index += 1
        return token

    def parse(self) -> dict[str, Any]:
        condition = self._any()
        token = self._peek()
        if token is not None:
            raise LogicError(f"unexpected {token.text!r}", token.column)
        return condition

    def _joined(self, word: str, key: str, below: Any) -> dict[str, Any]:
        parts = [below()]
        while (token := self._peek()) is not None and token.kind == "word" \
                and token.text.lower() == word:
            self.index += 1
            parts.append(below())
        return parts[0] if len(parts) == 1 else {key: parts}

    def _any(self) -> dict[str, Any]:
        return self._joined("or", "any", self._all)

    def _all(self) -> dict[str, Any]:
        return self._joined("and", "all", self._factor)

    def _factor(self) -> dict[str, Any]:
        token = self._peek()
        if token is not None and token.kind == "open":
            self.index += 1
            inner = self._any()
            self._take("close", "')'")
            return inner
        return self._comparison()

    def _comparison(self) -> dict[str, Any]:
        field = self._take("field", "a [field]")
        op = self._take("op", "a comparison (= <> > < >= <=)")
        value = self._peek()
        if value is None or value.kind not in ("string", "number"):
            raise LogicError("expected a value such as '1'", value.column if value else self.end)
        self.index += 1
        raw = value.text.strip("'\"")
        assert field.name is not None
        if field.name == ROLE_FIELD:
            if op.text != "=" or raw not in ROLES:
                raise LogicError(f"the role is tested with = and one of {', '.join(ROLES)}",
                                 op.column if op.text != "=" else value.column)
            return {"role": raw}
        if field.code is not None:
            if field.name not in self.checkbox:
                raise LogicError(f"[{field.name}({field.code})] names an option, but "
                                 f"{field.name!r} is not a checkbox field defined before",
                                 field.column)
            if op.text not in ("=", "<>", "!=") or raw not in ("0", "1"):
                raise LogicError("a checkbox option is tested with = '1' or = '0'", op.column)
            ticked = (raw == "1") == (op.text == "=")
            return {"item": f"{field.name}___{field.code.lower()}", "equals": 1 if ticked else 0}
        if field.name not in self.known:
            raise LogicError(f"[{field.name}] is not a field defined before this one",
                             field.column)
        try:
            number = float(raw)
        except ValueError:
            raise LogicError(f"{value.text} is not a number; conditions compare answer codes "
                             "and numbers", value.column) from None
        number_value: int | float = int(number) if number.is_integer() else number
        return {"item": self.known[field.name], _OPS[op.text]: number_value}


def parse_logic(logic: str, known: dict[str, str], checkbox: set[str]) -> dict[str, Any]:
    """A `show_if` mapping from REDCap branching logic; LogicError with the column if not."""
    return _Parser(logic, known, checkbox).parse()
