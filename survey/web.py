"""The one way a web view runs a service call: commit when it returns, roll back when it raises.

Services never commit (survey.services); the caller does. Views call `commit_after(action)`;
a refused input (InputError) leaves nothing written and reaches the view to be shown.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from survey.db import get_session

T = TypeVar("T")


def commit_after(action: Callable[[], T]) -> T:
    """Run `action` in the request's session; commit its work, or roll it back and re-raise."""
    db = get_session()
    try:
        result = action()
    except BaseException:
        db.rollback()
        raise
    db.commit()
    return result
