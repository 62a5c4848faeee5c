"""Participants (pseudonymous) and their contact details (kept apart)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    CheckConstraint,
    ColumnElement,
    ForeignKey,
    String,
    UniqueConstraint,
    and_,
    false,
    or_,
    select,
)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from survey.db import Base, utcnow
from survey.models._types import (
    Channel,
    ConsentDecision,
    ParticipantStatus,
    Role,
    enum_column,
    intpk,
    str40,
)
from survey.models.organisation import Team
from survey.models.study import Study


class Participant(Base):
    """A person enrolled in a study, known to analysis only by a pseudonymous code."""

    __tablename__ = "participant"

    id: Mapped[intpk]
    study_id: Mapped[int] = mapped_column(ForeignKey("study.id"), index=True)
    # Pseudonymous study id: random, meaningless, the only identifier exports carry.
    code: Mapped[str40] = mapped_column(unique=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("team.id"), index=True)
    role: Mapped[Role] = mapped_column(enum_column(Role))
    anchor_date: Mapped[dt.date]
    status: Mapped[ParticipantStatus] = mapped_column(
        enum_column(ParticipantStatus), default=ParticipantStatus.ACTIVE
    )
    consent_decision: Mapped[ConsentDecision | None] = mapped_column(
        enum_column(ConsentDecision)
    )
    consent_at: Mapped[dt.datetime | None]
    consent_version: Mapped[str | None] = mapped_column(String(20))
    withdrawn_at: Mapped[dt.datetime | None]
    # On withdrawal: may the answers already given be kept for analysis?
    withdrawal_keep_data: Mapped[bool | None]
    # The language of the person's pages and emails (instruments.languages.LANGUAGES); set at
    # enrolment (the study's default unless the file gives one) and by the pages' switch.
    language: Mapped[str] = mapped_column(String(8), default="en", server_default="en")
    # How the person likes their survey pages, chosen on any of them and kept for their links:
    # one question per page, and larger text.
    one_question: Mapped[bool] = mapped_column(default=False, server_default=false())
    larger_text: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # When the participant asked for no more text messages (replied STOP, or on their link's page).
    sms_opted_out_at: Mapped[dt.datetime | None]
    # When they asked for no more emails for this study (List-Unsubscribe, or their link's page).
    email_opted_out_at: Mapped[dt.datetime | None]

    study: Mapped[Study] = relationship()
    team: Mapped[Team] = relationship()
    contact: Mapped[Contact | None] = relationship(
        back_populates="participant", cascade="all, delete-orphan", uselist=False
    )

    @hybrid_property
    def is_active(self) -> bool:
        """Still taking part (not withdrawn, not declined); also a SQL expression."""
        return (
            self.status == ParticipantStatus.ACTIVE
            and self.consent_decision != ConsentDecision.DECLINED
        )

    @is_active.inplace.expression
    @classmethod
    def _is_active_expression(cls) -> ColumnElement[bool]:
        # SQL's NULL != 'declined' is NULL, not true: no decision yet counts as active.
        return and_(
            cls.status == ParticipantStatus.ACTIVE,
            or_(cls.consent_decision.is_(None), cls.consent_decision != ConsentDecision.DECLINED),
        )

    @hybrid_property
    def reachable(self) -> bool:
        """Some message can reach them: a working email they have not unsubscribed, or a working
        mobile that has not sent STOP (the one reachability and opt-out rule; which of the
        channels is messaging.reach.channels_for)."""
        contact = self.contact
        return contact is not None and (
            (contact.email_works and self.email_opted_out_at is None)
            or (contact.mobile_works and self.sms_opted_out_at is None)
        )

    @reachable.inplace.expression
    @classmethod
    def _reachable_expression(cls) -> ColumnElement[bool]:
        # Its own Contact even inside a query that joins Contact (never correlated to it).
        return (
            select(Contact.participant_id)
            .where(
                Contact.participant_id == cls.id,
                or_(and_(Contact.email_works, cls.email_opted_out_at.is_(None)),
                    and_(Contact.mobile_works, cls.sms_opted_out_at.is_(None))),
            )
            .correlate_except(Contact)
            .exists()
        )

    def __repr__(self) -> str:
        return f"<Participant {self.code}>"


class Contact(Base):
    """Name, email, mobile and the trust's own id: read only to send messages; erasure is one delete."""

    __tablename__ = "contact"
    __table_args__ = (
        UniqueConstraint("study_id", "external_id"),
        CheckConstraint("email IS NOT NULL OR mobile IS NOT NULL", name="email_or_mobile"),
    )

    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participant.id", ondelete="CASCADE"), primary_key=True
    )
    study_id: Mapped[int] = mapped_column(ForeignKey("study.id"))
    external_id: Mapped[str] = mapped_column(String(80))
    email: Mapped[str | None] = mapped_column(String(254))
    name: Mapped[str] = mapped_column(String(200), default="")
    # A mobile number in E.164 form (+447700900123), and how invitations reach this person.
    mobile: Mapped[str | None] = mapped_column(String(16))
    channel: Mapped[Channel] = mapped_column(
        enum_column(Channel), default=Channel.EMAIL, server_default="email"
    )
    # When a message to the address (or number) failed for good: a 5xx refusal, a bounce, or
    # Notify's permanent-failure. Nothing more goes by that channel until the address changes.
    email_failed_at: Mapped[dt.datetime | None]
    mobile_failed_at: Mapped[dt.datetime | None]

    participant: Mapped[Participant] = relationship(back_populates="contact")
    study: Mapped[Study] = relationship()

    @hybrid_property
    def email_works(self) -> bool:
        """There is an address and no message to it has failed for good; also SQL."""
        return self.email is not None and self.email_failed_at is None

    @email_works.inplace.expression
    @classmethod
    def _email_works_expression(cls) -> ColumnElement[bool]:
        return and_(cls.email.is_not(None), cls.email_failed_at.is_(None))

    @hybrid_property
    def mobile_works(self) -> bool:
        """There is a mobile number and no text to it has failed for good; also SQL."""
        return self.mobile is not None and self.mobile_failed_at is None

    @mobile_works.inplace.expression
    @classmethod
    def _mobile_works_expression(cls) -> ColumnElement[bool]:
        return and_(cls.mobile.is_not(None), cls.mobile_failed_at.is_(None))
