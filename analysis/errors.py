"""The one exception type of the analysis package."""

from __future__ import annotations


class AnalysisError(Exception):
    """A problem with the data or the model, told in words a person can act on."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message
