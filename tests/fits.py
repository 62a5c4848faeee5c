"""A fit whose standard error came out as NaN, as a degenerate model can give (shared by tests)."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from typing import Any

import numpy as np

from analysis import GrowthResults


def with_nan_standard_error(results: GrowthResults, term: int = 1) -> GrowthResults:
    """The same fit with one term's variance (and so its SE, CI and p) not a number."""
    vcov = results.vcov.copy()
    vcov[term, term] = np.nan
    return dataclasses.replace(results, vcov=vcov)


def nan_fitting(fit: Callable[..., GrowthResults]) -> Callable[..., GrowthResults]:
    """Wrap a real fitting function so that its results carry a NaN standard error."""

    def fit_then_spoil(*args: Any, **kwargs: Any) -> GrowthResults:
        return with_nan_standard_error(fit(*args, **kwargs))

    return fit_then_spoil


def strict_json(text: str) -> Any:
    """Parse JSON, refusing NaN and Infinity (which strict JSON does not have)."""

    def refuse(name: str) -> Any:
        raise ValueError(f"{name} is not JSON")

    return json.loads(text, parse_constant=refuse)
