"""A living demo: four trusts, twelve teams, ~160 participants, one study, four waves, answers.

The synthetic answers follow a growth model (peer workers start lower on equality and
empowerment and improve over the year; colleagues rate peer roles higher and change less),
with missing waves and occasional "does not apply", so dashboards and models show something
real. Loading twice changes nothing but the printed respondent links.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from instruments import Instrument, load_instrument, score_scales
from survey.config import DEFAULT_TIMEZONE
from survey.db import utcnow
from survey.models import (
    Answer,
    Channel,
    ConsentDecision,
    Contact,
    Invitation,
    InvitationStatus,
    LinkToken,
    Organisation,
    Participant,
    Response,
    Role,
    ScaleScore,
    StaffRole,
    Study,
    Team,
    User,
    Wave,
)
from survey.services import dashboard_publication, tokens
from survey.services import staff as staff_service
from survey.services.audit import record_event
from survey.services.study_setup import StudySpec, WaveSpec, apply_study

STUDY_CODE = "demo"
#: Every this many demo participants answers in Welsh (pages, emails and the language column).
WELSH_EVERY = 6
DEMO_PASSWORD = "peerpulse-demo"  # noqa: S105  # nosec B105 - printed for the local demo only
TRUSTS = {
    "NRT": ("North Riverside NHS Foundation Trust", [
        ("NRT-CMHT", "Riverside Community Mental Health Team", "community"),
        ("NRT-WARD", "Willow Ward (acute inpatient)", "inpatient"),
        ("NRT-EIP", "Early Intervention in Psychosis", "early intervention"),
    ]),
    "SHP": ("South Hills Mental Health Partnership", [
        ("SHP-CRISIS", "Crisis Resolution and Home Treatment", "crisis"),
        ("SHP-REC", "Recovery College", "recovery college"),
        ("SHP-CMHT", "Hillside Community Mental Health Team", "community"),
    ]),
    # Two more trusts, so that each trust's dashboard has a comparator of 3 other trusts.
    "EVT": ("East Vale Mental Health NHS Trust", [
        ("EVT-CMHT", "Vale Community Mental Health Team", "community"),
        ("EVT-WARD", "Oak Ward (acute inpatient)", "inpatient"),
        ("EVT-EIP", "Vale Early Intervention Service", "early intervention"),
    ]),
    "WCP": ("West Coast Care Partnership", [
        ("WCP-CRISIS", "Coastal Crisis Team", "crisis"),
        ("WCP-CMHT", "Harbour Community Mental Health Team", "community"),
        ("WCP-REC", "Coastal Recovery College", "recovery college"),
    ]),
}
# Per team: peer workers, colleagues, managers.
TEAM_MIX = ((Role.PEER_WORKER, 4), (Role.COLLEAGUE, 7), (Role.MANAGER, 2))
# The demo's support page: a trust service (its number is in Ofcom's range kept for drama) and
# Samaritans, in English and Welsh.
DEMO_SUPPORT = (
    {"name": {"en": "Staff wellbeing service of your trust",
              "cy": "Gwasanaeth llesiant staff eich ymddiriedolaeth"},
     "text": {"en": "Confidential support for everyone who works in the trust, peer workers "
                    "included. Weekdays, 9am to 5pm.",
              "cy": "Cymorth cyfrinachol i bawb sy'n gweithio yn yr ymddiriedolaeth, gan "
                    "gynnwys gweithwyr cymheiriaid. Yn ystod yr wythnos, 9am i 5pm."},
     "phone": "01632 960 123", "url": None},
    {"name": {"en": "Samaritans", "cy": "Samariaid"},
     "text": {"en": "Someone to talk to, whatever you are going through. Free to call, "
                    "24 hours a day, every day.",
              "cy": "Rhywun i siarad ag ef, beth bynnag rydych chi'n ei wynebu. Am ddim i'w "
                    "ffonio, 24 awr y dydd, bob dydd."},
     "phone": "116 123", "url": "https://www.samaritans.org"},
    {"name": {"en": "Samaritans' Welsh Language Line", "cy": "Llinell Gymraeg y Samariaid"},
     "text": {"en": "Talk to Samaritans in Welsh. Free to call.",
              "cy": "Siaradwch â'r Samariaid yn Gymraeg. Am ddim i'w ffonio."},
     "phone": "0808 164 0123", "url": None},
)
DEMO_STUDY = StudySpec(
    code=STUDY_CODE,
    name="Peer worker roles: integration over the first year",
    # Any hour, any day: a newcomer sees the demo's emails at once (real studies: 9-17 weekdays).
    send_hours=(0, 24),
    weekdays_only=False,
    # Version 2: the version 1 scales plus background questions and one free-text question.
    instruments=((Role.PEER_WORKER, "peer_worker", 2), (Role.COLLEAGUE, "colleague", 2),
                 (Role.MANAGER, "colleague", 2)),
    waves=tuple(WaveSpec(index, label, offset, None, 21, (3, 7)) for index, label, offset in (
        (1, "Baseline", 0), (2, "3 months", 91), (3, "6 months", 182), (4, "9 months", 273))),
    support=DEMO_SUPPORT,
)
# (baseline mean, change per month) of each scale, as peer workers and as colleagues see it.
GROWTH = {
    Role.PEER_WORKER: {"identity": (3.3, 0.05), "support": (3.0, 0.07), "equality": (2.6, 0.09),
                       "empowerment": (2.8, 0.08), "role_clarity": (2.9, 0.07),
                       "peer_practice": (3.1, 0.05)},
    Role.COLLEAGUE: {"identity": (3.6, 0.02), "support": (3.4, 0.02), "equality": (3.3, 0.02),
                     "empowerment": (3.3, 0.02), "role_clarity": (3.3, 0.03)},
}
DEFAULT_GROWTH = (3.2, 0.02)
# Some of what people write in the free-text question (no names, as the notice asks).
FREE_TEXT = (
    "Supervision from someone who has done peer work.",
    "Being asked for my view in team meetings, not only at the end.",
    "Access to the same records and training as everyone else.",
    "A clear job description that the whole team has read.",
    "More time to spend with people instead of doing paperwork.",
    "Other peer workers to talk to; I am the only one here.",
    "Managers explaining what peer work is to new staff.",
)


@dataclasses.dataclass
class DemoSummary:
    """What the demo holds, for printing."""

    created: bool
    participants: int
    responses: int
    links: list[tuple[str, str, str]]  # (participant code, role, token)
    staff: list[tuple[str, str]]

    def render(self, base_url: str) -> str:
        """A newcomer's guide to the demo."""
        lines = [
            f"Start at {base_url}/ (what PeerPulse is; staff sign in from there).",
            "",
            "PeerPulse demo " + ("loaded." if self.created else "was already loaded; nothing duplicated."),
            f"  {self.participants} participants, {self.responses} completed responses.",
            "",
            f"Staff: {base_url}/staff/login (password for all: {DEMO_PASSWORD}):",
            "  (these are demo accounts: they sign in with the password alone, in demo mode only;",
            "  every other administrator or researcher account sets up two-factor sign-in at its",
            "  first sign-in)",
        ]
        lines += [f"  {role:<14} {email}" for email, role in self.staff]
        lines += ["", "Respondent links (each is one person's personal survey link):"]
        lines += [f"  {role:<12} {code}  {tokens.survey_url(base_url, token)}"
                  for code, role, token in self.links]
        return "\n".join(lines)


def load_demo(db: Session, seed: int = 2013, today: dt.date | None = None,
              timezone: str = DEFAULT_TIMEZONE) -> DemoSummary:
    """Create the demo data unless it exists (its study in `timezone`); mint fresh links."""
    today = today or utcnow().date()
    study = db.scalar(select(Study).where(Study.code == STUDY_CODE))
    created = study is None
    if study is None:
        study = _create(db, random.Random(seed), today, timezone)  # nosec B311 - synthetic demo data, not security
    staff = _ensure_staff(db)
    # The waves whose answers have all closed are published at once, so the dashboard is full;
    # the scheduler's publish step does the same for waves that close later.
    db.flush()
    now = utcnow() if today == utcnow().date() else dt.datetime.combine(today, dt.time(), dt.UTC)
    dashboard_publication.publish_due(db, now, [study.id])
    links = _fresh_links(db, study)
    participants = db.scalar(select(func.count()).where(Participant.study_id == study.id)) or 0
    responses = db.scalar(
        select(func.count(Response.id)).join(Invitation).join(Participant)
        .where(Participant.study_id == study.id, Response.is_submitted)
    ) or 0
    return DemoSummary(created, participants, responses, links, staff)


def _create(db: Session, rng: random.Random, today: dt.date, timezone: str) -> Study:
    """Trusts, teams, study, waves, participants and their past answers."""
    study = apply_study(db, dataclasses.replace(DEMO_STUDY, timezone=timezone))
    waves = list(study.waves)
    instruments = {name: load_instrument(name, 2) for name in ("peer_worker", "colleague")}
    number = 0
    for org_code, (org_name, teams) in TRUSTS.items():
        organisation = Organisation(code=org_code, name=org_name)
        db.add(organisation)
        for team_code, team_name, service in teams:
            team = Team(organisation=organisation, code=team_code, name=team_name,
                        service_type=service)
            db.add(team)
            team_effect = rng.gauss(0, 0.15)
            for role, count in TEAM_MIX:
                for _ in range(count):
                    number += 1
                    participant = _participant(db, rng, study, team, role, number, today)
                    instrument = instruments[role.audience]
                    _history(db, rng, participant, waves, instrument, team_effect, today)
    db.flush()
    record_event(db, None, "demo.load", "study", study.code, actor="demo")
    return study


def _participant(db: Session, rng: random.Random, study: Study, team: Team, role: Role,
                 number: int, today: dt.date) -> Participant:
    """One participant, anchored about nine months ago, with contact details apart."""
    anchor = today - dt.timedelta(days=273 + rng.randint(-3, 12))
    participant = Participant(
        study=study, team=team, role=role, code=f"D{number:03d}{rng.randrange(16**4):04X}",
        anchor_date=anchor, language="cy" if number % WELSH_EVERY == 0 else "en",
    )
    participant.contact = Contact(study=study, external_id=f"DEMO-{number:03d}",
                                  email=f"participant{number:03d}@example.org",
                                  name=f"Demo Participant {number}")
    if number % 10 == 1:
        # Every tenth person also gets texts (written under instance/sms/), the first one only
        # texts. The numbers are in Ofcom's range for drama (07700 900xxx): nobody's phone.
        participant.contact.mobile = f"+447700900{number:03d}"
        participant.contact.channel = Channel.SMS if number == 1 else Channel.BOTH
        if number == 1:
            participant.contact.email = None
    db.add(participant)
    return participant


def _history(db: Session, rng: random.Random, participant: Participant, waves: list[Wave],
             instrument: Instrument, team_effect: float, today: dt.date) -> None:
    """Invitations for waves that have opened; answers for most past ones."""
    growth = GROWTH[Role(participant.role.audience)]
    intercept_shift = rng.gauss(0, 0.45) + team_effect
    slope_shift = rng.gauss(0, 0.02)
    consent_at = None
    for wave in waves:
        opens_on = participant.anchor_date + dt.timedelta(days=wave.offset_days or 0)
        if opens_on > today:
            continue
        opens_at = dt.datetime.combine(opens_on, dt.time(9, 0), dt.UTC)
        closes_at = opens_at + dt.timedelta(days=wave.window_days)
        invitation = Invitation(participant=participant, wave=wave, opens_at=opens_at,
                                closes_at=closes_at, sent_at=opens_at)
        db.add(invitation)
        still_open = closes_at.date() > today
        if still_open or rng.random() < 0.13:  # the current wave, and ~13% missed waves
            invitation.status = InvitationStatus.SENT if still_open else InvitationStatus.EXPIRED
            continue
        submitted = opens_at + dt.timedelta(days=rng.randint(0, 9), hours=rng.randint(1, 8))
        consent_at = consent_at or submitted - dt.timedelta(minutes=9)
        invitation.status = InvitationStatus.COMPLETED
        invitation.completed_at = submitted
        months = (opens_on - participant.anchor_date).days / 30.4375
        answers: dict[str, int | None] = {}
        for item in instrument.items_for(first_wave=wave.index == 1):
            if item.scale is None:  # background and free text: see _other_answers
                continue
            base, slope = growth.get(item.scale, DEFAULT_GROWTH)
            latent = base + intercept_shift + (slope + slope_shift) * months
            value = min(5, max(1, round(latent + rng.gauss(0, 0.55))))
            if rng.random() < 0.03 and instrument.not_applicable_label:
                answers[item.id] = None
            else:
                answers[item.id] = 6 - value if item.reverse else value
        response = Response(invitation=invitation, instrument_id=instrument.id,
                            instrument_version=instrument.version,
                            instrument_hash=instrument.content_hash,
                            language=participant.language,
                            started_at=submitted - dt.timedelta(minutes=7),
                            updated_at=submitted, submitted_at=submitted)
        response.answers = [Answer(item_id=k, value=v, answered_at=submitted)
                            for k, v in answers.items()]
        response.answers += _other_answers(participant, instrument, wave.index, submitted)
        response.scores = [ScaleScore(scale=s.scale, score=s.score, items_answered=s.items_answered)
                           for s in score_scales(instrument, answers).values()]
        db.add(response)
    if consent_at is not None:
        participant.consent_decision = ConsentDecision.GIVEN
        participant.consent_at = consent_at
        participant.consent_version = participant.study.consent_version


def _other_answers(participant: Participant, instrument: Instrument, wave_index: int,
                   submitted: dt.datetime) -> list[Answer]:
    """Answers to the background and free-text questions, from the participant's own seed.

    A separate generator keeps the Likert answers exactly as they would be without these.
    """
    rng = random.Random(f"{participant.code}-{wave_index}")  # nosec B311 - synthetic demo data
    answers = []
    for item in instrument.items_for(first_wave=wave_index == 1):
        if item.is_likert or rng.random() < 0.1:  # about one in ten skips each question
            continue
        answer = Answer(item_id=item.id, answered_at=submitted)
        if item.options:
            answer.store(rng.choice(item.options).value)
        elif item.number is not None:
            answer.store(float(min(item.number.maximum, max(item.number.minimum, rng.randint(0, 4)))))
        elif rng.random() < 0.4:  # fewer write something
            answer.store(rng.choice(FREE_TEXT))
        else:
            continue
        answers.append(answer)
    return answers


def _ensure_staff(db: Session) -> list[tuple[str, str]]:
    """An admin, a researcher and a monitor per trust, all with the demo password, marked as demo."""
    wanted: list[tuple[str, StaffRole, str | None]] = [
        ("admin@example.org", StaffRole.ADMIN, None),
        ("researcher@example.org", StaffRole.RESEARCHER, None),
    ] + [(f"monitor.{code.lower()}@example.org", StaffRole.TRUST_MONITOR, code) for code in TRUSTS]
    for email, role, org_code in wanted:
        user = staff_service.by_email(db, email)
        if user is None:
            user = User(email=email, role=role, password_hash="")  # nosec B106 - set just below
            if org_code:
                user.organisation = db.scalar(select(Organisation).where(Organisation.code == org_code))
            user.set_password(DEMO_PASSWORD)
            user.is_demo = True
            db.add(user)
        else:
            # A demo account signs in with the published password alone; one whose password
            # was changed (create-admin) is an ordinary account and keeps its second factor.
            user.is_demo = user.check_password(DEMO_PASSWORD)
    return [(email, role.value) for email, role, _ in wanted]


def _fresh_links(db: Session, study: Study) -> list[tuple[str, str, str]]:
    """New links for a few open invitations (their old demo links stop working)."""
    links: list[tuple[str, str, str]] = []
    for role, count in ((Role.PEER_WORKER, 2), (Role.COLLEAGUE, 1), (Role.MANAGER, 1)):
        invitations = db.scalars(
            select(Invitation).join(Participant)
            .where(Participant.study_id == study.id, Participant.role == role,
                   Invitation.is_open)
            .order_by(Participant.code).limit(count)
        ).all()
        for invitation in invitations:
            db.execute(delete(LinkToken).where(LinkToken.invitation_id == invitation.id))
            links.append((invitation.participant.code, role.value, tokens.issue_token(db, invitation)))
    return links
