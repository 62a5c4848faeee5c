"""Errors that services raise for input a person can correct."""

from __future__ import annotations


class InputError(ValueError):
    """Input was refused; nothing was written. `problems` maps each field name to its message."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__("; ".join(f"{name}: {message}" for name, message in problems.items()))
        self.problems = problems
