"""Writes with rules for volunteers and teams: onboarding lifecycle and safeguarding checks.

Admin actions, forms and imports call these; none of them changes a volunteer's status or
records a check on its own.
"""

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import (
    ALLOWED_TRANSITIONS,
    CheckResult,
    SafeguardingCheck,
    Volunteer,
    VolunteerStatus,
    VolunteerStatusChange,
)


def _status_label(value: str) -> str:
    return str(VolunteerStatus(value).label) if value in VolunteerStatus.values else value


@transaction.atomic
def register_volunteer(*, volunteer: Volunteer, by=None, note: str = "") -> Volunteer:
    """Save a new volunteer (status 申请中 unless set) and open her status history."""
    if volunteer.pk is not None:
        raise ValueError("register_volunteer() is for new volunteers")
    volunteer.full_clean()
    volunteer.save()
    VolunteerStatusChange.objects.create(
        volunteer=volunteer, from_status="", to_status=volunteer.status, changed_by=by, note=note or _("登记")
    )
    return volunteer


@transaction.atomic
def change_volunteer_status(*, volunteer: Volunteer, to: str, by=None, note: str = "") -> VolunteerStatusChange:
    """Move `volunteer` to status `to` if the lifecycle allows it, and record the step."""
    if to not in VolunteerStatus.values:
        raise ValidationError(_("未知的状态:%(s)s。") % {"s": to})
    # Lock the row: two staff acting at once must not both pass the transition check.
    current = Volunteer.objects.select_for_update().only("status").get(pk=volunteer.pk)
    if to not in ALLOWED_TRANSITIONS[current.status]:
        raise ValidationError(
            _("不能将状态从“%(from)s”改为“%(to)s”。")
            % {"from": _status_label(current.status), "to": _status_label(to)},
            code="transition",
        )
    change = VolunteerStatusChange(
        volunteer=volunteer, from_status=current.status, to_status=to, changed_by=by, note=note
    )
    change.full_clean()
    Volunteer.objects.filter(pk=volunteer.pk).update(status=to, updated_at=timezone.now())
    change.save()
    volunteer.status = to
    return change


@transaction.atomic
def approve_applicants(queryset, *, by=None, note: str = "") -> dict[str, int]:
    """Approve every applicant (申请中) in `queryset`; others are left alone.

    Returns {"approved": n, "skipped": m}. One UPDATE and one bulk INSERT of history rows,
    whatever the number selected.
    """
    pks = list(queryset.values_list("pk", flat=True))
    applicants = list(
        Volunteer.objects.select_for_update()
        .filter(pk__in=pks, status=VolunteerStatus.APPLIED)
        .values_list("pk", flat=True)
    )
    now = timezone.now()
    Volunteer.objects.filter(pk__in=applicants).update(status=VolunteerStatus.ACTIVE, updated_at=now)
    VolunteerStatusChange.objects.bulk_create(
        [
            VolunteerStatusChange(
                volunteer_id=pk,
                from_status=VolunteerStatus.APPLIED,
                to_status=VolunteerStatus.ACTIVE,
                changed_by=by,
                changed_at=now,
                note=note or _("批量通过申请"),
            )
            for pk in applicants
        ]
    )
    return {"approved": len(applicants), "skipped": len(pks) - len(applicants)}


DEFAULT_CHECK_VALIDITY_DAYS = 365


@transaction.atomic
def record_safeguarding_check(
    *,
    volunteer: Volunteer,
    checked_on: datetime.date,
    result: str,
    valid_until: datetime.date | None = None,
    by=None,
    authority: str = "",
    note: str = "",
) -> SafeguardingCheck:
    """File a background check (无违法犯罪记录查询) for `volunteer`.

    `valid_until` defaults to one year after `checked_on`. A check that finds a record makes
    the volunteer ineligible (see VolunteerQuerySet.eligible); an active volunteer is then
    suspended at once, with the reason in her status history.
    """
    if valid_until is None:
        valid_until = checked_on + datetime.timedelta(days=DEFAULT_CHECK_VALIDITY_DAYS)
    check = SafeguardingCheck(
        volunteer=volunteer,
        checked_on=checked_on,
        result=result,
        valid_until=valid_until,
        checked_by=by,
        authority=authority,
        note=note,
    )
    check.full_clean()
    check.save()
    if result == CheckResult.RECORD_FOUND and volunteer.status == VolunteerStatus.ACTIVE:
        change_volunteer_status(
            volunteer=volunteer, to=VolunteerStatus.SUSPENDED, by=by, note=_("无犯罪记录查询发现相关记录")
        )
    return check
