"""Enrolment: checking a participants CSV (all or nothing) and applying it as an upsert.

The file's header is `external_id,email,name,role,team_code,anchor_date`, optionally followed by
`mobile` (any UK or international form; stored as E.164), `channel` (email, sms or both;
default email when there is an address, sms when there is only a number) and `language` (a
code such as `cy`; empty means the study's default); a participant needs an email address or
a mobile number. Every problem is
reported with its line and column (an InputError listing them all); if there is any, nothing
is written. Importing the same file again updates the people already enrolled (matched by the
trust's external_id) and never duplicates them. Contact details go only into Contact.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from instruments import safe_csv
from instruments.languages import LANGUAGES
from survey.messaging.reach import CHANNELS, default_channel, parse_mobile
from survey.models import Channel, Contact, Participant, Role, Study, Team, User
from survey.services.audit import record_event
from survey.services.errors import InputError, Problem, character_problem
from survey.services.invitations import reschedule_participant

COLUMNS = ("external_id", "email", "name", "role", "team_code", "anchor_date")
# Columns a file may add after the required ones (in any order).
LANGUAGE_COLUMN = "language"
OPTIONAL_COLUMNS = ("mobile", "channel", LANGUAGE_COLUMN)
ROLES = tuple(role.value for role in Role)
MAX_LENGTHS = {"external_id": 80, "email": 254, "name": 200, "team_code": 40, "mobile": 40}
TEMPLATE_ROWS = (
    ("E1001", "sam.peer@example.nhs.uk", "Sam Peer", "peer_worker", "TEAM001", "2026-01-05",
     "07911 123456", "both", ""),
    ("E1002", "alex.colleague@example.nhs.uk", "", "colleague", "TEAM001", "2026-01-05", "", "",
     "cy"),
)


@dataclass(frozen=True)
class EnrolmentRow:
    """One checked participant."""

    line: int | None
    external_id: str
    email: str | None
    name: str
    role: Role
    team: Team
    anchor_date: dt.date
    mobile: str | None = None
    channel: Channel = Channel.EMAIL
    language: str | None = None  # None: the study's default (new) or unchanged (existing)


@dataclass
class ImportResult:
    """What an import changed."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    participants: list[Participant] = field(default_factory=list)

    def summary(self) -> str:
        """A one-line account for people."""
        return f"{self.created} added, {self.updated} updated, {self.unchanged} unchanged"


def template_csv() -> str:
    """The downloadable template: the header and two example rows."""
    return safe_csv.rows_text([COLUMNS + OPTIONAL_COLUMNS, *TEMPLATE_ROWS])


def check_values(
    values: Mapping[str, str | None], teams: Mapping[str, Team], line: int | None = None
) -> tuple[EnrolmentRow | None, list[Problem]]:
    """Check one participant's values; the row, or None and the problems found."""
    problems: list[Problem] = []
    v = {name: (values.get(name) or "").strip() for name in COLUMNS + OPTIONAL_COLUMNS}
    unstorable = [Problem(name, message, line) for name in COLUMNS + OPTIONAL_COLUMNS
                  if (message := character_problem(values.get(name)))]
    if unstorable:  # before any other check, so that no such value is looked up or echoed
        return None, unstorable
    for name in ("external_id", "role", "team_code", "anchor_date"):
        if not v[name]:
            problems.append(Problem(name, line=line, message="is empty; a value is needed"))
    if not v["email"] and not v["mobile"]:
        problems.append(Problem("email", line=line, message="is empty and so is mobile; "
                                "give an email address, a mobile number or both"))
    for name, limit in MAX_LENGTHS.items():
        if len(v[name]) > limit:
            problems.append(Problem(name, line=line, message=f"is longer than {limit} characters"))
    email = v["email"]
    if email and len(email) <= MAX_LENGTHS["email"]:
        try:
            email = validate_email(email, check_deliverability=False).normalized
        except EmailNotValidError:
            problems.append(Problem("email", f"'{v['email']}' is not a valid email address", line))
    mobile, channel = _check_mobile_and_channel(v, line, problems)
    if v["role"] and v["role"] not in ROLES:
        problems.append(
            Problem("role", line=line, message=f"'{v['role']}' is not a role; use one of {', '.join(ROLES)}")
        )
    team = teams.get(v["team_code"])
    if v["team_code"] and team is None:
        problems.append(Problem("team_code", f"there is no team with code '{v['team_code']}'", line))
    anchor: dt.date | None = None
    if v["anchor_date"]:
        try:
            anchor = dt.date.fromisoformat(v["anchor_date"])
        except ValueError:
            problems.append(
                Problem("anchor_date",
                        f"'{v['anchor_date']}' is not a date in ISO 8601 form (YYYY-MM-DD)", line)
            )
    language = (values.get(LANGUAGE_COLUMN) or "").strip().lower() or None
    if language is not None and language not in LANGUAGES:
        problems.append(Problem(LANGUAGE_COLUMN, line=line, message=(
            f"'{values.get(LANGUAGE_COLUMN) or ''}' is not a language PeerPulse supports; "
            f"use one of {', '.join(LANGUAGES)} or leave it empty for the study's default")))
    if problems or team is None or anchor is None:
        return None, problems
    row = EnrolmentRow(line, v["external_id"], email or None, v["name"], Role(v["role"]), team,
                       anchor, mobile, channel or default_channel(email, mobile), language)
    return row, []


def _check_mobile_and_channel(
    v: Mapping[str, str], line: int | None, problems: list[Problem]
) -> tuple[str | None, Channel | None]:
    """The mobile number in E.164 form and the channel (None: the default), adding problems."""
    mobile: str | None = None
    if v["mobile"] and len(v["mobile"]) <= MAX_LENGTHS["mobile"]:
        mobile = parse_mobile(v["mobile"])
        if mobile is None:
            problems.append(Problem("mobile", line=line, message=(
                f"'{v['mobile']}' is not a valid mobile number; write a UK mobile as "
                "07xxx xxxxxx or any number with its country code, e.g. +44 7xxx xxxxxx")))
    if not v["channel"]:
        return mobile, None
    if v["channel"] not in CHANNELS:
        problems.append(Problem("channel", line=line, message=(
            f"'{v['channel']}' is not a channel; use one of {', '.join(CHANNELS)} "
            "(or leave it empty)")))
        return mobile, None
    channel = Channel(v["channel"])
    if channel.uses_sms and not v["mobile"]:
        problems.append(Problem("channel", line=line,
                                message=f"is '{channel.value}' but there is no mobile number"))
    if channel.uses_email and not v["email"]:
        problems.append(Problem("channel", line=line,
                                message=f"is '{channel.value}' but there is no email address"))
    return mobile, channel


def _teams(db: Session) -> dict[str, Team]:
    return {team.code: team for team in db.scalars(select(Team))}


def _contacts(db: Session, study: Study) -> dict[str, Contact]:
    return {
        c.external_id: c
        for c in db.scalars(
            select(Contact).where(Contact.study_id == study.id).options(joinedload(Contact.participant))
        )
    }


def parse_csv(db: Session, data: bytes | str, study: Study) -> list[EnrolmentRow]:
    """Check a whole file; the rows, or InputError listing every problem."""
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise InputError(
                [Problem(None, f"the file is not UTF-8 text (byte {exc.start}); "
                                     "save it as 'CSV UTF-8' and try again")]
            ) from exc
    else:
        text = data.removeprefix("\ufeff")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise InputError([Problem(None, "the file is empty")]) from None
    except csv.Error as exc:
        raise InputError([Problem(None, line=1, message=f"cannot read the header: {exc}")]) from exc
    missing = [c for c in COLUMNS if c not in header]
    unknown = [h for h in header if h not in COLUMNS + OPTIONAL_COLUMNS]
    duplicated = sorted({h for h in header if header.count(h) > 1})
    header_problems = []
    if missing:
        header_problems.append(Problem(None, line=1, message=f"missing column(s): {', '.join(missing)}"))
    if unknown:
        header_problems.append(Problem(None, line=1, message=f"unknown column(s): {', '.join(unknown)}"))
    if duplicated:
        header_problems.append(Problem(None, line=1, message=f"repeated column(s): {', '.join(duplicated)}"))
    if header_problems:
        header_problems.append(Problem(None, line=1, message=(
            f"the header must be {','.join(COLUMNS)}, optionally with "
            f"{', '.join(OPTIONAL_COLUMNS)} after them")))
        raise InputError(header_problems)

    teams = _teams(db)
    contacts = _contacts(db, study)
    owner_of_email = {c.email.lower(): c.external_id for c in contacts.values() if c.email}
    owner_of_mobile = {c.mobile: c.external_id for c in contacts.values() if c.mobile}
    problems: list[Problem] = []
    rows: list[EnrolmentRow] = []
    seen_ids: dict[str, int] = {}
    seen_emails: dict[str, int] = {}
    seen_mobiles: dict[str, int] = {}
    try:
        for values in reader:
            line = reader.line_num
            if not any(value.strip() for value in values):
                continue
            if len(values) != len(header):
                problems.append(
                    Problem(None, line=line, message=f"expected {len(header)} values, found {len(values)}")
                )
                continue
            row, row_problems = check_values(dict(zip(header, values, strict=True)), teams, line)
            problems.extend(row_problems)
            if row is None:
                continue
            if row.external_id in seen_ids:
                problems.append(Problem(
                    "external_id", f"'{row.external_id}' is also on line {seen_ids[row.external_id]}",
                    line))
            for name, value, seen, owners in (
                ("email", row.email and row.email.lower(), seen_emails, owner_of_email),
                ("mobile", row.mobile, seen_mobiles, owner_of_mobile),
            ):
                if not value:
                    continue
                shown = row.email if name == "email" else row.mobile
                if value in seen:
                    problems.append(Problem(name, f"'{shown}' is also on line {seen[value]}", line))
                owner = owners.get(value)
                if owner is not None and owner != row.external_id:
                    problems.append(Problem(name, line=line, message=f"'{shown}' already belongs to "
                                            f"the participant with external_id '{owner}'"))
                seen.setdefault(value, line)
            seen_ids.setdefault(row.external_id, line)
            rows.append(row)
    except csv.Error as exc:
        problems.append(Problem(None, line=reader.line_num, message=f"cannot read this line: {exc}"))
    if not rows and not problems:
        problems.append(Problem(None, "the file has a header but no participants"))
    if problems:
        raise InputError(problems)
    return rows


def new_code(taken: set[str]) -> str:
    """A fresh pseudonymous participant code (random, meaningless)."""
    while True:
        code = "P" + secrets.token_hex(5).upper()
        if code not in taken:
            taken.add(code)
            return code


def apply_rows(
    db: Session, study: Study, rows: Iterable[EnrolmentRow], user: User | None = None,
    source: str = "import",
) -> ImportResult:
    """Create or update participants by (study, external_id); flushes, the caller commits."""
    contacts = _contacts(db, study)
    taken = set(db.scalars(select(Participant.code)))
    result = ImportResult()
    moved: list[Participant] = []
    for row in rows:
        contact = contacts.get(row.external_id)
        if contact is None:
            participant = Participant(
                study=study, code=new_code(taken), team=row.team, role=row.role,
                anchor_date=row.anchor_date, language=row.language or study.default_language,
            )
            participant.contact = Contact(
                study_id=study.id, external_id=row.external_id, email=row.email, name=row.name,
                mobile=row.mobile, channel=row.channel,
            )
            db.add(participant)
            result.created += 1
        else:
            participant = contact.participant
            before = (participant.team_id, participant.role, participant.anchor_date,
                      contact.email, contact.name, contact.mobile, contact.channel,
                      participant.language)
            participant.team = row.team
            participant.role = row.role
            anchor_changed = participant.anchor_date != row.anchor_date
            participant.anchor_date = row.anchor_date
            # A changed address works until a message to it fails (services.receipts).
            if (contact.email or "").lower() != (row.email or "").lower():
                contact.email_failed_at = None
            if contact.mobile != row.mobile:
                contact.mobile_failed_at = None
            contact.email, contact.name = row.email, row.name
            contact.mobile, contact.channel = row.mobile, row.channel
            participant.language = row.language or participant.language
            after = (row.team.id, row.role, row.anchor_date, row.email, row.name, row.mobile,
                     row.channel, participant.language)
            if before == after:
                result.unchanged += 1
            else:
                result.updated += 1
            if anchor_changed:
                moved.append(participant)
        result.participants.append(participant)
    db.flush()
    for participant in moved:
        reschedule_participant(db, participant)
    record_event(
        db, user, f"participants.{source}", "study", study.code,
        {"created": result.created, "updated": result.updated, "unchanged": result.unchanged},
        actor=None if user else "cli",
    )
    return result


def import_csv(db: Session, study: Study, data: bytes | str, user: User | None = None) -> ImportResult:
    """Check and apply a participants file, all or nothing; InputError lists every problem."""
    rows = parse_csv(db, data, study)
    return apply_rows(db, study, rows, user)


def save_participant(
    db: Session, study: Study, values: Mapping[str, str | None], user: User | None = None,
    participant: Participant | None = None,
) -> Participant:
    """Add one participant, or edit one (team, role, anchor date, contact); InputError if refused."""
    values = dict(values)
    if participant is not None:
        assert participant.contact is not None
        values["external_id"] = participant.contact.external_id
    row, problems = check_values(values, _teams(db))
    if row is None:
        raise InputError(problems)
    contacts = _contacts(db, study)
    if participant is None and row.external_id in contacts:
        raise InputError([Problem("external_id",
                                  f"'{row.external_id}' is already enrolled in this study")])
    for contact in contacts.values():
        if contact.external_id == row.external_id:
            continue
        if row.email and contact.email and contact.email.lower() == row.email.lower():
            raise InputError([Problem("email", f"'{row.email}' already belongs to the "
                                      f"participant with external_id '{contact.external_id}'")])
        if row.mobile and contact.mobile == row.mobile:
            raise InputError([Problem("mobile", f"'{row.mobile}' already belongs to the "
                                      f"participant with external_id '{contact.external_id}'")])
    result = apply_rows(db, study, [row], user, source="add" if participant is None else "edit")
    return result.participants[0]
