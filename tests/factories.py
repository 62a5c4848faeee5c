"""factory_boy factories for the domain objects, with traits for common states."""

from __future__ import annotations

import datetime as dt
import secrets

import factory
from factory.alchemy import SQLAlchemyModelFactory
from sqlalchemy.orm import Session

from survey import models as m
from survey.db import utcnow

DEFAULT_PASSWORD = "correct horse battery"
# The TOTP secret of every factory account with a second factor (base32, 160 bits).
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"

_ALL: list[type[SQLAlchemyModelFactory]] = []


def bind(session: Session | None) -> None:
    """Point every factory at this session (or none)."""
    for cls in _ALL:
        cls._meta.sqlalchemy_session = session


def _register(cls: type[SQLAlchemyModelFactory]) -> type[SQLAlchemyModelFactory]:
    _ALL.append(cls)
    return cls


class _Base(SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_persistence = "flush"


@_register
class OrganisationFactory(_Base):
    class Meta:
        model = m.Organisation

    code = factory.Sequence(lambda n: f"TR{n:03d}")
    name = factory.Sequence(lambda n: f"Trust {n} NHS Foundation Trust")


@_register
class TeamFactory(_Base):
    class Meta:
        model = m.Team

    organisation = factory.SubFactory(OrganisationFactory)
    code = factory.Sequence(lambda n: f"TEAM{n:03d}")
    name = factory.Sequence(lambda n: f"Community team {n}")
    service_type = "community"


@_register
class StudyFactory(_Base):
    class Meta:
        model = m.Study

    code = factory.Sequence(lambda n: f"study{n}")
    name = factory.Sequence(lambda n: f"Peer roles study {n}")
    timezone = "Europe/London"
    status = m.StudyStatus.ACTIVE

    class Params:
        paused = factory.Trait(status=m.StudyStatus.PAUSED)

    @factory.post_generation
    def instruments(obj: m.Study, create: bool, extracted: object, **kwargs: object) -> None:
        """Peer workers answer peer_worker v1; colleagues and managers colleague v1."""
        if not create or extracted is False:
            return
        session = StudyFactory._meta.sqlalchemy_session
        for role, instrument in (
            (m.Role.PEER_WORKER, "peer_worker"),
            (m.Role.COLLEAGUE, "colleague"),
            (m.Role.MANAGER, "colleague"),
        ):
            session.add(
                m.StudyInstrument(study=obj, role=role, instrument_id=instrument, instrument_version=1)
            )
        session.flush()


@_register
class WaveFactory(_Base):
    class Meta:
        model = m.Wave

    study = factory.SubFactory(StudyFactory)
    index = factory.Sequence(lambda n: n + 1)
    label = factory.LazyAttribute(lambda o: f"Wave {o.index}")
    offset_days = factory.LazyAttribute(lambda o: (o.index - 1) * 90)
    fixed_date = None
    window_days = 21
    reminder_offsets = factory.LazyFunction(lambda: [3, 7])


@_register
class ParticipantFactory(_Base):
    class Meta:
        model = m.Participant

    study = factory.SubFactory(StudyFactory)
    team = factory.SubFactory(TeamFactory)
    code = factory.LazyFunction(lambda: "P" + secrets.token_hex(4).upper())
    role = m.Role.PEER_WORKER
    anchor_date = factory.LazyFunction(lambda: dt.date(2026, 1, 5))
    status = m.ParticipantStatus.ACTIVE
    contact = factory.RelatedFactory(
        "tests.factories.ContactFactory", factory_related_name="participant"
    )

    class Params:
        colleague = factory.Trait(role=m.Role.COLLEAGUE)
        manager = factory.Trait(role=m.Role.MANAGER)
        withdrawn = factory.Trait(status=m.ParticipantStatus.WITHDRAWN, withdrawn_at=factory.LazyFunction(utcnow))
        consented = factory.Trait(
            consent_decision=m.ConsentDecision.GIVEN,
            consent_at=factory.LazyFunction(utcnow),
            consent_version="1",
        )


@_register
class ContactFactory(_Base):
    class Meta:
        model = m.Contact

    participant = factory.SubFactory(ParticipantFactory, contact=None)
    study_id = factory.LazyAttribute(lambda o: o.participant.study_id)
    external_id = factory.Sequence(lambda n: f"EMP{n:05d}")
    email = factory.Sequence(lambda n: f"person{n}@example.org")
    name = factory.Sequence(lambda n: f"Person {n}")


@_register
class InvitationFactory(_Base):
    class Meta:
        model = m.Invitation

    participant = factory.SubFactory(ParticipantFactory)
    wave = factory.SubFactory(WaveFactory, study=factory.SelfAttribute("..participant.study"))
    status = m.InvitationStatus.SCHEDULED
    opens_at = factory.LazyFunction(lambda: utcnow() - dt.timedelta(days=1))
    closes_at = factory.LazyAttribute(lambda o: o.opens_at + dt.timedelta(days=21))

    class Params:
        sent = factory.Trait(status=m.InvitationStatus.SENT, sent_at=factory.LazyFunction(utcnow))


@_register
class UserFactory(_Base):
    class Meta:
        model = m.User

    email = factory.Sequence(lambda n: f"staff{n}@example.org")
    role = m.StaffRole.RESEARCHER
    password_hash = factory.LazyFunction(lambda: _hashed_default())
    organisation = None
    # Admins and researchers need a second factor: theirs is enrolled with a known secret
    # (tests.conftest.StaffLogin types its codes); trust monitors have none unless asked.
    totp_secret = factory.LazyAttribute(
        lambda o: TOTP_SECRET if o.role in (m.StaffRole.ADMIN, m.StaffRole.RESEARCHER) else None
    )
    totp_enabled_at = factory.LazyAttribute(lambda o: utcnow() if o.totp_secret else None)

    class Params:
        admin = factory.Trait(role=m.StaffRole.ADMIN)
        monitor = factory.Trait(
            role=m.StaffRole.TRUST_MONITOR, organisation=factory.SubFactory(OrganisationFactory)
        )
        no_second_factor = factory.Trait(totp_secret=None)
        with_second_factor = factory.Trait(totp_secret=TOTP_SECRET)
        demo = factory.Trait(is_demo=True, totp_secret=None)


_HASH: list[str] = []


def _hashed_default() -> str:
    """Hash the default password once per run (hashing is deliberately slow)."""
    if not _HASH:
        from werkzeug.security import generate_password_hash

        _HASH.append(generate_password_hash(DEFAULT_PASSWORD))
    return _HASH[0]


@_register
class OpenInvitationFactory(InvitationFactory):
    """A sent invitation, open now, at the first wave, of a consented participant."""

    participant = factory.SubFactory(ParticipantFactory, consented=True)
    wave = factory.SubFactory(WaveFactory, study=factory.SelfAttribute("..participant.study"), index=1)
    status = m.InvitationStatus.SENT
    sent_at = factory.LazyFunction(utcnow)
