"""The domain tables, one module per area; import from here."""

from survey.models._types import (
    Channel,
    ConsentDecision,
    InvitationStatus,
    OutboxStatus,
    ParticipantStatus,
    Receipt,
    Role,
    StaffRole,
    StudyStatus,
)
from survey.models.api_token import ApiToken
from survey.models.dashboard import DashboardSnapshot
from survey.models.invitation import Invitation, LinkToken
from survey.models.mail import OutboxMessage
from survey.models.operations import JobRun, SchedulerHeartbeat
from survey.models.organisation import Organisation, Team
from survey.models.participant import Contact, Participant
from survey.models.response import Answer, Response, ScaleScore
from survey.models.staff import AuditEvent, StaffSession, User
from survey.models.study import Study, StudyInstrument, Wave

__all__ = [
    "Answer",
    "ApiToken",
    "AuditEvent",
    "Channel",
    "ConsentDecision",
    "Contact",
    "DashboardSnapshot",
    "Invitation",
    "InvitationStatus",
    "JobRun",
    "LinkToken",
    "Organisation",
    "OutboxMessage",
    "OutboxStatus",
    "Participant",
    "ParticipantStatus",
    "Receipt",
    "Response",
    "Role",
    "ScaleScore",
    "SchedulerHeartbeat",
    "StaffRole",
    "StaffSession",
    "Study",
    "StudyInstrument",
    "StudyStatus",
    "Team",
    "User",
    "Wave",
]
