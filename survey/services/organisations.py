"""Trusts and their teams: create and edit them, checked and audited (for the admin pages and CLI)."""

from __future__ import annotations

import re

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from survey.models import Organisation, Participant, Team, User
from survey.services.audit import record_event
from survey.services.errors import InputError, character_problem

CODE_PATTERN = re.compile(r"[A-Za-z0-9-]{2,40}")
CODE_RULE = "use 2–40 letters, digits or hyphens"
MAX_NAME = 200
MAX_SERVICE_TYPE = 80


def code_problem(code: str) -> str | None:
    """What is wrong with a trust or team code, or None."""
    if not code:
        return f"Enter a code ({CODE_RULE})."
    if not CODE_PATTERN.fullmatch(code):
        return f"'{code}' is not a valid code: {CODE_RULE}."
    return None


def text_problem(value: str, what: str, limit: int, *, required: bool = True) -> str | None:
    """What is wrong with a name-like text field, or None."""
    if required and not value:
        return f"Enter the {what}."
    if (unstorable := character_problem(value)) is not None:
        return f"The {what} {unstorable}."
    if len(value) > limit:
        return f"The {what} is longer than {limit} characters."
    return None


def _checked(problems: dict[str, str | None]) -> None:
    """Raise InputError if any field has a problem."""
    found = {name: message for name, message in problems.items() if message}
    if found:
        raise InputError(found)


def _flush_unique(db: Session, field: str, message: str) -> None:
    """Flush in a savepoint; a unique clash from a simultaneous request becomes a field error."""
    try:
        with db.begin_nested():
            db.flush()
    except IntegrityError:
        raise InputError({field: message}) from None


def _code_taken(db: Session, model: type[Organisation] | type[Team], code: str) -> bool:
    return db.scalar(select(model.id).where(func.lower(model.code) == code.lower())) is not None


def create_organisation(db: Session, by: User | None, code: str, name: str,
                        actor: str | None = None) -> Organisation:
    """Add a trust; raises InputError (nothing added) on a bad or taken code or a bad name."""
    code, name = code.strip(), name.strip()
    taken = f"There is already a trust with code '{code}'."
    code_message = code_problem(code) or (taken if _code_taken(db, Organisation, code) else None)
    _checked({"code": code_message, "name": text_problem(name, "trust's name", MAX_NAME)})
    organisation = Organisation(code=code, name=name)
    db.add(organisation)
    _flush_unique(db, "code", taken)
    record_event(db, by, "trust.create", "trust", code, {"name": name}, actor=actor)
    return organisation


def _team_fields(name: str, service_type: str) -> dict[str, str | None]:
    return {
        "name": text_problem(name, "team's name", MAX_NAME),
        "service_type": text_problem(service_type, "service type", MAX_SERVICE_TYPE, required=False),
    }


def _name_taken(db: Session, organisation_id: int, name: str, except_id: int | None = None) -> bool:
    query = select(Team.id).where(Team.organisation_id == organisation_id,
                                  func.lower(Team.name) == name.lower())
    if except_id is not None:
        query = query.where(Team.id != except_id)
    return db.scalar(query) is not None


def create_team(db: Session, by: User | None, organisation: Organisation, code: str, name: str,
                service_type: str = "", actor: str | None = None) -> Team:
    """Add a team to a trust; raises InputError (nothing added) on a bad or taken code or name."""
    code, name, service_type = code.strip(), name.strip(), service_type.strip()
    problems = {"code": code_problem(code), **_team_fields(name, service_type)}
    if problems["code"] is None and _code_taken(db, Team, code):
        problems["code"] = f"There is already a team with code '{code}'."
    if problems["name"] is None and _name_taken(db, organisation.id, name):
        problems["name"] = f"{organisation.name} already has a team called '{name}'."
    _checked(problems)
    team = Team(organisation=organisation, code=code, name=name, service_type=service_type)
    db.add(team)
    _flush_unique(db, "code", f"There is already a team with code '{code}' or this name.")
    record_event(db, by, "team.create", "team", code,
                 {"trust": organisation.code, "name": name, "service_type": service_type}, actor=actor)
    return team


def update_team(db: Session, by: User | None, team: Team, name: str, service_type: str,
                actor: str | None = None) -> list[str]:
    """Change a team's name and service type; returns the fields changed (audited if any)."""
    name, service_type = name.strip(), service_type.strip()
    _checked(_team_fields(name, service_type))
    if _name_taken(db, team.organisation_id, name, except_id=team.id):
        raise InputError({"name": f"{team.organisation.name} already has a team called '{name}'."})
    changes = {field: [old, new] for field, old, new in (
        ("name", team.name, name), ("service_type", team.service_type, service_type)) if old != new}
    if changes:
        team.name, team.service_type = name, service_type
        _flush_unique(db, "name", f"{team.organisation.name} already has a team called '{name}'.")
        record_event(db, by, "team.update", "team", team.code, changes, actor=actor)
    return list(changes)


def trusts_with_teams(db: Session) -> list[Organisation]:
    """Every trust by name, with its teams loaded."""
    return list(db.scalars(
        select(Organisation).options(selectinload(Organisation.teams)).order_by(Organisation.name)
    ))


def participants_per_team(db: Session) -> dict[int, int]:
    """How many participants (any status, any study) each team has, by team id."""
    rows = db.execute(select(Participant.team_id, func.count()).group_by(Participant.team_id))
    return dict(rows.all())


def organisation_by_code(db: Session, code: str) -> Organisation | None:
    """The trust with this code, or None."""
    return db.scalar(select(Organisation).where(Organisation.code == code))


def team_by_code(db: Session, code: str) -> Team | None:
    """The team with this code, or None."""
    return db.scalar(select(Team).where(Team.code == code))
