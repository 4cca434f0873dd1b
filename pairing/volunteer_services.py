"""Reads and writes for the volunteers' own pages (我的结对, 记录活动, 我的记录).

Everything a volunteer may see or touch is reached from her own `Volunteer` row: her active
pairings (her own and those of the teams she currently belongs to), the teams she leads, and
the logs she filed herself or that her teams filed. Views call only these functions; the
writes go through `pairing.services` (record_activity, update_activity, withdraw_activity),
which hold the business rules.

Each read runs a fixed number of queries whatever the number of rows.
"""

import datetime
import secrets
from dataclasses import dataclass, field
from importlib import import_module

from django.conf import settings
from django.db import transaction
from django.db.models import Prefetch, Q, prefetch_related_objects
from django.utils import timezone

from children.models import Child, Guardian
from teams.models import MemberRole, Project, Team, TeamMembership, Volunteer

from .models import ActivityLog, Pairing
from .selectors import volunteer_pairings
from .services import record_activity

# --- who is signed in ---------------------------------------------------------------------


def volunteer_of(user) -> Volunteer | None:
    """The volunteer record linked to `user` (one query), or None."""
    if not getattr(user, "is_authenticated", False):
        return None
    return Volunteer.objects.select_related("federation").filter(user=user).first()


def current_team_ids(volunteer: Volunteer):
    """Subquery: ids of the teams `volunteer` currently belongs to."""
    return TeamMembership.objects.current().filter(volunteer=volunteer).values("team_id")


def led_teams(volunteer: Volunteer):
    """Teams `volunteer` currently leads (leader role in a current membership, or named leader)."""
    led = TeamMembership.objects.current().filter(volunteer=volunteer, role=MemberRole.LEADER).values("team_id")
    return Team.objects.filter(Q(pk__in=led) | Q(leader=volunteer, pk__in=current_team_ids(volunteer))).order_by(
        "name", "pk"
    )


def active_pairings_of(volunteer: Volunteer):
    """Queryset of the active pairings she may log for: hers and her current teams'."""
    return (
        Pairing.objects.active()
        .filter(Q(volunteer=volunteer) | Q(team_id__in=current_team_ids(volunteer)))
        .select_related("child", "team")
        .order_by("child__name", "pk")
    )


# --- 我的结对 -------------------------------------------------------------------------------


@dataclass
class PairingGroup:
    title: str
    team: Team | None
    rows: list = field(default_factory=list)


def _guardians_prefetch():
    # Guardians who live with the child first: the person she is most likely to call.
    return Prefetch("child__guardians", queryset=Guardian.objects.order_by("-lives_with_child", "pk"))


def my_pairings(volunteer: Volunteer, *, today: datetime.date | None = None) -> list:
    """Her active pairings (own and teams'), overdue first then by due date.

    Rows are `Pairing`s with `child` (village, needs, guardians loaded), `last_activity_on`,
    `due_on`, `is_overdue`. Six queries whatever the number of rows.
    """
    today = today or timezone.localdate()
    rows = volunteer_pairings(volunteer, today=today)
    prefetch_related_objects(rows, "child__village", "child__needs", _guardians_prefetch())
    rows.sort(key=lambda r: (not r.is_overdue, r.due_on, r.child.name, r.pk))
    return rows


def grouped_pairings(volunteer: Volunteer, rows: list) -> list[PairingGroup]:
    """Her own pairings first, then one section per team (no queries)."""
    own = PairingGroup(title="我结对的儿童", team=None)
    teams: dict[int, PairingGroup] = {}
    for row in rows:
        if row.volunteer_id == volunteer.pk:
            own.rows.append(row)
        else:
            teams.setdefault(row.team_id, PairingGroup(title=f"{row.team.name}结对的儿童", team=row.team)).rows.append(
                row
            )
    groups = [own] if own.rows else []
    return groups + sorted(teams.values(), key=lambda g: (g.team.name, g.team.pk))


def my_child(volunteer: Volunteer, child_id: int, *, today: datetime.date | None = None):
    """(child, pairing rows) for a child she is actively paired with, or (None, []) otherwise."""
    rows = [r for r in my_pairings(volunteer, today=today) if r.child_id == child_id]
    if not rows:
        return None, []
    return rows[0].child, rows


# --- 我的记录 -------------------------------------------------------------------------------


def my_logs(volunteer: Volunteer):
    """Logs she filed as herself, and the logs of the teams she leads; newest first. Three queries."""
    led = led_teams(volunteer).values("pk")
    return (
        ActivityLog.objects.filter(Q(volunteer=volunteer) | Q(team_id__in=led))
        .select_related("team", "project")
        .prefetch_related(Prefetch("pairings", queryset=Pairing.objects.select_related("child").order_by("pk")))
        .order_by("-date", "-pk")
    )


def my_log(volunteer: Volunteer, log_id: int) -> ActivityLog | None:
    return my_logs(volunteer).filter(pk=log_id).first()


def logs_for_child(volunteer: Volunteer, child: Child):
    return my_logs(volunteer).filter(pairings__child=child).distinct()


def projects_of(teams) -> list[Project]:
    return list(Project.objects.filter(team__in=teams).select_related("team").order_by("team__name", "name"))


# --- one-time form tokens: a double submit files one log --------------------------------------

TOKENS_KEY = "volunteer_form_tokens"
MAX_TOKENS = 20


def issue_form_token(session) -> str:
    """A fresh token for one rendering of the new-activity form, remembered in the session."""
    token = secrets.token_urlsafe(16)
    tokens = [*session.get(TOKENS_KEY, [])[-(MAX_TOKENS - 1) :], token]
    session[TOKENS_KEY] = tokens
    return token


def _fresh_session_tokens(session) -> list[str]:
    """The tokens as stored now (another request may have used one since this one loaded)."""
    if not session.session_key:
        return list(session.get(TOKENS_KEY, []))
    store = import_module(settings.SESSION_ENGINE).SessionStore(session.session_key)
    return list(store.get(TOKENS_KEY, []))


class AlreadySubmitted(Exception):  # noqa: N818 - a signal, not an error
    """The form token was used before: this is a second submission of the same form."""


@transaction.atomic
def record_my_activity(*, volunteer: Volunteer, by, session, token: str, team: Team | None = None, **kwargs):
    """File a log from the volunteer's form, once per form token.

    Requests for one volunteer are serialised on her row (SELECT ... FOR UPDATE); inside the
    lock the token is checked against the session as stored, then used up and the session
    saved before the lock is released, so a second submission of the same form, however
    close behind, finds the token gone and raises AlreadySubmitted instead of filing again.
    Rule violations raise ValidationError from `pairing.services.record_activity`.
    """
    Volunteer.objects.select_for_update().filter(pk=volunteer.pk).values_list("pk", flat=True).first()
    tokens = _fresh_session_tokens(session)
    if not token or token not in tokens:
        raise AlreadySubmitted
    if team is not None:
        log = record_activity(by=by, team=team, is_group=True, **kwargs)
    else:
        log = record_activity(by=by, volunteer=volunteer, **kwargs)
    tokens.remove(token)
    session[TOKENS_KEY] = tokens
    session.save()
    return log
