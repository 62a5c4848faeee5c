"""Reading the model endpoint's query string, naming the parameter that is wrong."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import get_args

from analysis.types import Method
from survey.research.forms import BY_CHOICES
from survey.services.errors import InputError
from survey.services.models_run import ModelChoice

BY_VALUES = tuple(choice.value for choice in BY_CHOICES)
METHODS: tuple[str, ...] = get_args(Method)
BOOLEANS = {"true": True, "false": False}


def describe(error: InputError) -> str:
    """The problems of a query as one sentence per parameter, for the problem's detail."""
    return " ".join(f"Query parameter '{p.field}': {p.message}" for p in error.problems)


def one_of(args: Mapping[str, str], name: str, allowed: Collection[str], default: str) -> str:
    """A parameter that takes one of a few values; raises InputError naming it otherwise."""
    value = args.get(name, default)
    if value not in allowed:
        listed = ", ".join(repr(a) for a in allowed)
        raise InputError({name: f"{value!r} is not one of {listed}"})
    return value


def model_choice(args: Mapping[str, str]) -> ModelChoice:
    """The model asked for; raises InputError saying which parameter is wrong and why.

    A scale without scores is no query error: fitting says so (422), as on the research page.
    """
    scale = args.get("scale")
    if not scale:
        raise InputError({"scale": "required; the id of a scale, e.g. 'equality'"})
    by = one_of(args, "by", BY_VALUES, "role_group")
    team_level = BOOLEANS[one_of(args, "team_level", tuple(BOOLEANS), "false")]
    method = one_of(args, "method", METHODS, "REML")
    return ModelChoice(scale=scale, by=by or None, team_level=team_level, method=method)
