from .audit import AppendOnlyError, AuditAction, AuditEvent
from .federation import Federation, FederationKind, FederationQuerySet, JurisdictionQuerySet, Level
from .honours import Honour, HonourKind, HonourQuerySet
from .teams import MemberRole, Project, ProjectQuerySet, Team, TeamCategory, TeamKind, TeamMembership, TeamQuerySet
from .users import User
from .volunteers import (
    ALLOWED_TRANSITIONS,
    CheckResult,
    SafeguardingCheck,
    Sex,
    SkillArea,
    SourceTag,
    SourceTagChoice,
    Volunteer,
    VolunteerQuerySet,
    VolunteerStatus,
    VolunteerStatusChange,
)

__all__ = [
    "AppendOnlyError",
    "AuditAction",
    "AuditEvent",
    "ALLOWED_TRANSITIONS",
    "CheckResult",
    "Federation",
    "FederationKind",
    "FederationQuerySet",
    "Honour",
    "HonourKind",
    "HonourQuerySet",
    "JurisdictionQuerySet",
    "Level",
    "MemberRole",
    "Project",
    "ProjectQuerySet",
    "SafeguardingCheck",
    "Sex",
    "SkillArea",
    "SourceTag",
    "SourceTagChoice",
    "Team",
    "TeamCategory",
    "TeamKind",
    "TeamMembership",
    "TeamQuerySet",
    "User",
    "Volunteer",
    "VolunteerQuerySet",
    "VolunteerStatus",
    "VolunteerStatusChange",
]
