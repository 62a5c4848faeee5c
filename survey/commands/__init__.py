"""Flask commands, one module per group, all registered here.

| module | commands |
|---|---|
| db | `db upgrade`, `db downgrade`, `db check` |
| accounts | `create-admin` |
| demo | `demo` |
| studies | `studies check`, `studies load` |
| participants | `participants import` |
| dispatch | `scheduler`, `dispatch --once` |
| instruments | `instruments check` |
| retention | `retention apply [--execute]` |
| bounces | `bounces serve` |

A new group is a module with a `COMMANDS` tuple, added to `GROUPS` below.
"""

from __future__ import annotations

from flask import Flask

from survey.commands import (
    accounts,
    bounces,
    db,
    demo,
    dispatch,
    instruments,
    participants,
    retention,
    studies,
)

GROUPS = (db, accounts, demo, studies, participants, dispatch, instruments, retention, bounces)


def register(app: Flask) -> None:
    """Add every group's commands to the app's `flask` command line."""
    for module in GROUPS:
        for command in module.COMMANDS:
            app.cli.add_command(command)
