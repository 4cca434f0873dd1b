"""Writes with rules for volunteers and teams: onboarding lifecycle and safeguarding checks.

Admin actions, forms and imports call these; none of them changes a volunteer's status or
records a check on its own.
"""

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from aixinmama.history import record_bulk_history

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
    record_bulk_history(Volunteer, [volunteer.pk], by=by, reason=f"状态:{to}")
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
    record_bulk_history(Volunteer, applicants, by=by, reason="批量通过申请")
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


# --- volunteers' sign-in accounts -------------------------------------------------------------

READABLE_CHARACTERS = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/l/I


def _temporary_password(length: int = 10) -> str:
    import secrets

    while True:
        password = "".join(secrets.choice(READABLE_CHARACTERS) for _i in range(length))
        if any(c.isdigit() for c in password) and any(c.isalpha() for c in password):
            return password


def _free_username(mobile: str) -> str:
    from .models import User

    if not User.objects.filter(username=mobile).exists():
        return mobile
    taken = set(User.objects.filter(username__startswith=f"{mobile}-").values_list("username", flat=True))
    n = 2
    while f"{mobile}-{n}" in taken:
        n += 1
    return f"{mobile}-{n}"


@transaction.atomic
def create_volunteer_account(*, volunteer: Volunteer, by) -> tuple:
    """Open a sign-in account for `volunteer` (not staff); returns (user, temporary password).

    The username is her mobile number (or "mobile-2", … when that name is taken); she signs in
    with the number either way. The temporary password is returned once, to be handed to her;
    only its hash is stored.
    """
    from .models import User

    locked = Volunteer.objects.select_for_update().get(pk=volunteer.pk)
    if locked.user_id is not None:
        raise ValidationError(_("%(name)s已有登录账号,如忘记密码请使用“重置密码”。") % {"name": locked.name})
    if locked.status == VolunteerStatus.LEFT:
        raise ValidationError(_("%(name)s已退出,不能开通登录账号。") % {"name": locked.name})
    if not locked.mobile:
        raise ValidationError(_("%(name)s没有登记手机号码,不能开通登录账号。") % {"name": locked.name})
    password = _temporary_password()
    user = User.objects.create_user(username=_free_username(locked.mobile), password=password, is_staff=False)
    user.last_name = locked.name
    user.must_change_password = True  # the temporary password was seen by staff
    user.save(update_fields=["last_name", "must_change_password"])
    Volunteer.objects.filter(pk=locked.pk).update(user=user, updated_at=timezone.now())
    record_bulk_history(Volunteer, [locked.pk], by=by, reason="创建登录账号")
    volunteer.user = user
    return user, password


@transaction.atomic
def reset_volunteer_password(*, volunteer: Volunteer, by) -> str:
    """Give `volunteer`'s account a new temporary password (returned once) and lift any sign-in lockout."""
    from axes.utils import reset as reset_lockouts

    from .models import User

    locked = Volunteer.objects.select_for_update().get(pk=volunteer.pk)
    user = User.objects.filter(pk=locked.user_id).first() if locked.user_id else None
    if user is None:
        raise ValidationError(_("%(name)s还没有登录账号,请先开通账号。") % {"name": locked.name})
    if user.is_staff:
        raise ValidationError(_("%(name)s的账号是工作人员账号,请在用户管理中处理。") % {"name": locked.name})
    password = _temporary_password()
    user.set_password(password)
    user.must_change_password = True
    user.is_active = True
    user.save(update_fields=["password", "is_active", "must_change_password"])
    for name in {user.username, locked.mobile}:
        reset_lockouts(username=name)
    return password
