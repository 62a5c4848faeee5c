"""Staff accounts: create, change role or trust, deactivate and reactivate (audited, no secrets)."""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from survey.models import Organisation, StaffRole, User
from survey.services import staff_sessions
from survey.services.audit import record_event
from survey.services.errors import InputError, Problem, character_problem
from survey.services.organisations import organisation_by_code

MIN_PASSWORD = 12
MAX_PASSWORD = 200
ROLE_NAMES = ", ".join(role.value for role in StaffRole)


def _role(value: str) -> StaffRole:
    try:
        return StaffRole(value)
    except ValueError:
        raise InputError({"role": f"'{value}' is not a role; use one of {ROLE_NAMES}."}) from None


def _trust_for(db: Session, role: StaffRole, trust_code: str | None) -> Organisation | None:
    """The trust a role is scoped to: required for trust monitors, refused for everyone else."""
    if (unstorable := character_problem(trust_code)) is not None:
        raise InputError({"trust": f"The trust code {unstorable}."})
    trust_code = (trust_code or "").strip()
    if role != StaffRole.TRUST_MONITOR:
        if trust_code:
            raise InputError({"trust": f"Only trust monitors belong to a trust; leave the trust "
                                       f"empty for a {role.value.replace('_', ' ')}."})
        return None
    if not trust_code:
        raise InputError({"trust": "Choose the trust this trust monitor may see."})
    organisation = organisation_by_code(db, trust_code)
    if organisation is None:
        raise InputError({"trust": f"There is no trust with code '{trust_code}'."})
    return organisation


def password_problem(password: str) -> str | None:
    """What is wrong with a new password, or None."""
    if len(password) < MIN_PASSWORD:
        return f"The password is too short: use at least {MIN_PASSWORD} characters."
    if len(password) > MAX_PASSWORD:
        return f"The password is longer than {MAX_PASSWORD} characters."
    return None


def by_email(db: Session, email: str) -> User | None:
    """The staff account with this email, ignoring case and surrounding spaces."""
    if character_problem(email) is not None:  # no account has one; PostgreSQL cannot compare it
        return None
    return db.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))


def _email(db: Session, value: str) -> str:
    email = value.strip().lower()
    try:
        email = validate_email(email, check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        raise InputError({"email": f"'{email}' is not a valid email address."}) from None
    if by_email(db, email) is not None:
        raise InputError({"email": f"There is already an account for {email}."})
    return email


def create_account(db: Session, by: User | None, *, email: str, role: str, password: str,
                   trust_code: str | None = None, actor: str | None = None) -> User:
    """Add an active staff account; raises InputError (nothing added) listing every problem."""
    problems: list[Problem] = []
    checked_email = checked_role = None
    organisation: Organisation | None = None
    try:
        checked_email = _email(db, email)
    except InputError as exc:
        problems.extend(exc.problems)
    try:
        checked_role = _role(role)
        organisation = _trust_for(db, checked_role, trust_code)
    except InputError as exc:
        problems.extend(exc.problems)
    if (message := password_problem(password)) is not None:
        problems.append(Problem("password", message))
    if problems or checked_email is None or checked_role is None:
        raise InputError(problems)
    user = User(email=checked_email, role=checked_role, organisation=organisation, active=True)
    user.set_password(password)
    db.add(user)
    db.flush()
    record_event(db, by, "user.create", "user", user.id,
                 {"role": checked_role.value, "trust": _code(user)}, actor=actor)
    return user


def _code(user: User) -> str | None:
    return user.organisation.code if user.organisation is not None else None


def change_role(db: Session, by: User | None, user: User, role: str, trust_code: str | None,
                actor: str | None = None) -> bool:
    """Give an account another role or trust; returns whether anything changed (then audited)."""
    staff_role = _role(role)
    organisation = _trust_for(db, staff_role, trust_code)
    if by is not None and by.id == user.id and staff_role != user.role:
        raise InputError({"role": "You cannot change your own role; ask another administrator."})
    before = {"role": user.role.value, "trust": _code(user)}
    user.role, user.organisation = staff_role, organisation
    after = {"role": staff_role.value, "trust": _code(user)}
    if before == after:
        return False
    db.flush()
    record_event(db, by, "user.update", "user", user.id,
                 {key: [before[key], after[key]] for key in after if before[key] != after[key]},
                 actor=actor)
    return True


def set_active(db: Session, by: User | None, user: User, active: bool,
               actor: str | None = None) -> bool:
    """Deactivate or reactivate an account (never one's own); returns whether it changed.

    Deactivating ends every session of the account and revokes its API tokens, for good.
    """
    if not active and by is not None and by.id == user.id:
        raise InputError({"active": "You cannot deactivate your own account."})
    if user.active == active:
        return False
    user.active = active
    if not active:
        staff_sessions.lock_out(db, user, by, actor)
    db.flush()
    record_event(db, by, "user.reactivate" if active else "user.deactivate", "user", user.id,
                 actor=actor)
    return True


def reset_account(db: Session, user: User, *, role: str, password: str,
                  trust_code: str | None = None, actor: str | None = None) -> None:
    """New password (same rules), role and trust, reactivated; its sessions end, its API tokens are revoked.

    A reset account is no longer a demo account: the exemption from the second factor is
    only for the demo's published password.
    """
    if (message := password_problem(password)) is not None:
        raise InputError({"password": message})
    change_role(db, None, user, role, trust_code, actor=actor)
    set_active(db, None, user, True, actor=actor)
    user.set_password(password)
    staff_sessions.lock_out(db, user, actor=actor)
    user.is_demo = False
    record_event(db, None, "user.password_reset", "user", user.id, actor=actor)


def all_accounts(db: Session) -> list[User]:
    """Every staff account by email, with its trust loaded."""
    return list(db.scalars(select(User).options(joinedload(User.organisation)).order_by(User.email)))
