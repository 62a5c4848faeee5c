"""The one way a web view runs a service call: commit when it returns, roll back when it raises.

Services never commit (survey.services); the caller does. Views call `commit_after(action)`;
a refused input (InputError) leaves nothing written and reaches the view to be shown, except
where the refusal itself must be recorded (a failed sign-in's audit): `record_refusal=True`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from survey.db import get_session
from survey.services.errors import InputError

T = TypeVar("T")


def commit_after(action: Callable[[], T], *, record_refusal: bool = False) -> T:
    """Run `action` in the request's session; commit its work, or roll it back and re-raise.

    With `record_refusal`, an InputError still commits what the service recorded of the
    refusal (such a service writes nothing else before it refuses) and then reaches the view.
    """
    db = get_session()
    try:
        result = action()
    except InputError:
        if record_refusal:
            db.commit()
        else:
            db.rollback()
        raise
    except BaseException:
        db.rollback()
        raise
    db.commit()
    return result
