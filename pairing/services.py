"""Writes with rules: pairing, ending and transferring; activity logs and their review;
contact cadence; donations and their allocation.

Admin actions, views, imports and the demo call these; nothing else writes these models.
Every rule raises `ValidationError` with a Chinese message keyed to the form field it is about.
"""

import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from aixinmama.history import record_bulk_history
from children.models import Child, ChildStatus, RiskGrade
from teams.audit import record_event, record_events_bulk
from teams.models import AuditAction, Federation, Level, Team, TeamKind, TeamMembership, Volunteer

from .models import (
    ActivityLog,
    CadenceSetting,
    Donation,
    DonationAllocation,
    EndReason,
    Pairing,
    PairingStatus,
    ReviewStatus,
)

__all__ = [
    "allocate_donation",
    "approve_activities",
    "approve_activity",
    "create_pairing",
    "end_pairing",
    "is_city_level",
    "pair_village_with_community_team",
    "record_activity",
    "refresh_last_activity",
    "record_donation",
    "return_activity",
    "set_cadence",
    "transfer_pairing",
    "unit_may_serve",
    "update_activity",
    "withdraw_activity",
]

CITY_LEVELS = (Level.PROVINCE, Level.CITY)


def is_city_level(user) -> bool:
    """A superuser, or staff of a city (or province) federation."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser:
        return True
    unit = user.federation
    return unit is not None and unit.level in CITY_LEVELS


def _district_path(unit: Federation) -> str | None:
    """Path of the district at or above `unit` (None above district level)."""
    if unit.level == Level.DISTRICT:
        return unit.path
    if unit.level in CITY_LEVELS:
        return None
    district = Federation.objects.filter(path__in=unit.ancestor_paths(), level=Level.DISTRICT).order_by("-path").first()
    return district.path if district else None


def unit_may_serve(unit: Federation, village: Federation) -> bool:
    """The unit rule: `unit` is the child's village, one of its ancestors, or in the same district."""
    if village.path.startswith(unit.path):
        return True
    district = _district_path(village)
    return district is not None and unit.path.startswith(district)


# --- pairings ---------------------------------------------------------------------------


def _locked_partner(volunteer, team):
    """Lock the volunteer's or team's row: capacity checks of concurrent pairings queue here."""
    if volunteer is not None:
        return Volunteer.objects.select_for_update().get(pk=volunteer.pk)
    return Team.objects.select_for_update().get(pk=team.pk)


@transaction.atomic
def create_pairing(
    *,
    child: Child,
    volunteer: Volunteer | None = None,
    team: Team | None = None,
    by,
    reason: str = "",
    start_date: datetime.date | None = None,
) -> Pairing:
    """Pair `child` with a volunteer or a team, checking every rule; returns the new pairing.

    Rules: the child is in the programme; exactly one of volunteer/team; a volunteer is eligible
    (active, valid clear safeguarding check) and under her capacity; a team is under its capacity;
    the volunteer's/team's unit is the child's village, an ancestor of it or in the same district,
    otherwise only a city-level user who gives a reason. Capacity is counted with the volunteer's
    or team's row locked, and two staff pairing the same child with the same partner at once are
    settled by the partial unique constraint: the loser gets a clear error, not a 500.
    """
    today = timezone.localdate()
    start_date = start_date or today
    reason = (reason or "").strip()
    if (volunteer is None) == (team is None):
        raise ValidationError({"volunteer": _("请选择一位爱心妈妈或一支队伍(二者选一)。")})
    field = "volunteer" if volunteer is not None else "team"
    errors: dict[str, list] = {}

    def add(name, message):
        errors.setdefault(name, []).append(message)

    if start_date > today:
        add("start_date", _("结对日期不能晚于今天。"))
    child = Child.objects.select_related("village").get(pk=child.pk)
    if child.status != ChildStatus.IN_PROGRAMME:
        add("child", _("%(name)s已退出项目,不能结对。") % {"name": child.name})

    partner = _locked_partner(volunteer, team)
    active = Pairing.objects.active()
    if volunteer is not None:
        if not Volunteer.objects.eligible(on=today).filter(pk=partner.pk).exists():
            add(
                "volunteer",
                _("%(name)s目前不能结对:须为在岗状态,且持有有效的无违法犯罪记录查询结果。") % {"name": partner.name},
            )
        used = active.filter(volunteer=partner).count()
        if active.filter(volunteer=partner, child=child).exists():
            add("volunteer", _("该儿童已与%(name)s结对。") % {"name": partner.name})
        elif used >= partner.capacity:
            add(
                "volunteer",
                _("%(name)s已结对 %(used)d 名儿童,达到可结对人数上限(%(cap)d 名)。")
                % {"name": partner.name, "used": used, "cap": partner.capacity},
            )
    else:
        used = active.filter(team=partner).count()
        if active.filter(team=partner, child=child).exists():
            add("team", _("该儿童已与%(name)s结对。") % {"name": partner.name})
        elif used >= partner.capacity:
            add(
                "team",
                _("%(name)s已结对 %(used)d 名儿童,达到可结对人数上限(%(cap)d 名)。")
                % {"name": partner.name, "used": used, "cap": partner.capacity},
            )

    unit = partner.federation
    if not unit_may_serve(unit, child.village):
        if not is_city_level(by):
            add(
                field,
                _(
                    "%(partner)s属于%(unit)s,不在儿童所在村(居)、其上级单位或同一区内;跨区结对须由市级工作人员办理并填写原因。"
                )
                % {"partner": partner, "unit": unit},
            )
        elif not reason:
            add("reason", _("跨区结对须填写原因。"))
    if errors:
        raise ValidationError(errors)

    pairing = Pairing(
        child=child,
        volunteer=partner if volunteer is not None else None,
        team=partner if team is not None else None,
        start_date=start_date,
        reason=reason,
        created_by=by if getattr(by, "pk", None) else None,
    )
    # The unique constraint is checked by the database below (not by full_clean) so a
    # concurrent winner is reported through the same message.
    pairing.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            pairing._history_user = pairing.created_by
            pairing.save()
    except IntegrityError as exc:
        raise ValidationError(
            {
                field: _("该儿童刚刚已与%(partner)s结对(可能有其他工作人员同时操作),请刷新后查看。")
                % {"partner": partner}
            }
        ) from exc
    record_event(AuditAction.PAIRING_CREATED, user=pairing.created_by, obj=pairing, reason=reason or "")
    return pairing


@transaction.atomic
def end_pairing(*, pairing: Pairing, reason: str, by, end_date: datetime.date | None = None, note: str = "") -> Pairing:
    """End an active pairing, keeping the record (pairings are never deleted)."""
    locked = Pairing.objects.select_for_update().get(pk=pairing.pk)
    end_date = end_date or timezone.localdate()
    errors = {}
    if locked.status != PairingStatus.ACTIVE:
        errors["status"] = _("该结对已结束。")
    if reason not in EndReason.values:
        errors["end_reason"] = _("请选择结束原因。")
    if end_date > timezone.localdate():
        errors["end_date"] = _("结束日期不能晚于今天。")
    elif end_date < locked.start_date:
        errors["end_date"] = _("结束日期不能早于结对日期(%(d)s)。") % {"d": locked.start_date}
    if errors:
        raise ValidationError(errors)
    locked.status = PairingStatus.ENDED
    locked.end_date = end_date
    locked.end_reason = reason
    locked.end_note = (note or "").strip()
    locked.ended_by = by if getattr(by, "pk", None) else None
    locked._history_user = locked.ended_by
    locked.save(update_fields=["status", "end_date", "end_reason", "end_note", "ended_by"])
    record_event(AuditAction.PAIRING_ENDED, user=locked.ended_by, obj=locked, end_reason=reason)
    pairing.__dict__.update({f: getattr(locked, f) for f in ["status", "end_date", "end_reason", "end_note"]})
    pairing.ended_by_id = locked.ended_by_id
    return locked


@transaction.atomic
def transfer_pairing(
    *,
    pairing: Pairing,
    volunteer: Volunteer | None = None,
    team: Team | None = None,
    by,
    reason: str = "",
    end_reason: str = EndReason.REASSIGNED,
    note: str = "",
    start_date: datetime.date | None = None,
) -> Pairing:
    """End `pairing` and pair its child with another volunteer or team, in one transaction.

    If the new pairing breaks a rule, nothing changes: the old pairing stays active.
    """
    day = start_date or timezone.localdate()
    end_pairing(pairing=pairing, reason=end_reason, by=by, end_date=day, note=note)
    return create_pairing(child=pairing.child, volunteer=volunteer, team=team, by=by, reason=reason, start_date=day)


@transaction.atomic
def pair_village_with_community_team(
    *, village: Federation, by, team: Team | None = None, start_date: datetime.date | None = None
) -> dict:
    """Pair every unpaired in-programme child of `village` with the village's community team.

    One locked team row, one query for the children, one bulk insert. Children beyond the
    team's remaining capacity are left unpaired and counted in "over_capacity".
    Returns {"team": team, "created": n, "over_capacity": m}.
    """
    if team is None:
        team = Team.objects.community().filter(federation=village).order_by("pk").first()
        if team is None:
            raise ValidationError(_("%(v)s还没有社区“爱心妈妈”队伍,请先建立队伍。") % {"v": village})
    if team.kind != TeamKind.COMMUNITY or team.federation_id != village.pk:
        raise ValidationError({"team": _("%(t)s不是%(v)s的社区队伍。") % {"t": team, "v": village}})
    team = Team.objects.select_for_update().get(pk=team.pk)
    used = Pairing.objects.active().filter(team=team).count()
    children = list(
        Child.objects.in_programme()
        .filter(village=village)
        .exclude(pairings__status=PairingStatus.ACTIVE)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    room = max(team.capacity - used, 0)
    chosen = children[:room]
    start = start_date or timezone.localdate()
    creator = by if getattr(by, "pk", None) else None
    try:
        with transaction.atomic():
            created = Pairing.objects.bulk_create(
                [Pairing(child_id=pk, team=team, start_date=start, created_by=creator) for pk in chosen]
            )
    except IntegrityError as exc:
        raise ValidationError(_("有儿童刚刚已与该队伍结对(可能有其他工作人员同时操作),请刷新后重试。")) from exc
    # Bulk inserts send no signals: history and audit are written here, in bulk too.
    record_bulk_history(Pairing, [p.pk for p in created], by=creator, reason="批量结对", update=False)
    names = dict(Child.objects.filter(pk__in=chosen).values_list("pk", "name"))
    record_events_bulk(
        AuditAction.PAIRING_CREATED,
        user=creator,
        objs=created,
        reprs={p.pk: f"{names[p.child_id]} · {team}" for p in created},
        bulk="village",
        village=village.name,
    )
    return {"team": team, "created": len(chosen), "over_capacity": len(children) - len(chosen)}


# --- activity logs ----------------------------------------------------------------------


def refresh_last_activity(pairing_ids) -> None:
    """Recompute `Pairing.last_activity_on` for the given pairings (one UPDATE with a MAX subquery)."""
    from .selectors import computed_last_activity

    ids = list(pairing_ids)
    if ids:
        Pairing.objects.filter(pk__in=ids).update(last_activity_on=computed_last_activity())


def _pairings_served(*, volunteer, team, pairings, children) -> list[Pairing]:
    """The pairings a log may cover: the doer's own, or (for a volunteer) her current teams'."""
    partner_q = Q(volunteer=volunteer) if volunteer is not None else Q(team=team)
    if volunteer is not None:
        team_ids = TeamMembership.objects.current().filter(volunteer=volunteer).values("team_id")
        partner_q |= Q(team_id__in=team_ids)
    chosen = list(Pairing.objects.filter(pk__in=[p.pk for p in pairings]).select_related("child"))
    errors = []
    allowed = set(Pairing.objects.filter(partner_q, pk__in=[p.pk for p in chosen]).values_list("pk", flat=True))
    for p in chosen:
        if p.pk not in allowed:
            errors.append(_("%(child)s的结对不属于本人或本队伍。") % {"child": p.child.name})
    if children:
        child_ids = [c.pk for c in children]
        found = {}
        for p in Pairing.objects.active().filter(partner_q, child_id__in=child_ids).select_related("child"):
            found.setdefault(p.child_id, p)
        for c in children:
            if c.pk in found:
                if found[c.pk].pk not in {p.pk for p in chosen}:
                    chosen.append(found[c.pk])
            else:
                errors.append(_("%(child)s没有与本人或本队伍的有效结对。") % {"child": c.name})
    if errors:
        raise ValidationError({"pairings": errors})
    return chosen


ACTIVITY_FIELDS = [
    "date",
    "kind",
    "mode",
    "duration_minutes",
    "children_reached",
    "parents_reached",
    "place",
    "description",
    "is_group",
    "project",
]


def _check_activity(activity: ActivityLog, served: list[Pairing]):
    errors = {}
    if not activity.is_group and not served:
        errors["pairings"] = _("请选择本次帮扶的结对儿童;没有具体儿童的活动请标为集体活动。")
    for p in served:
        if activity.date and activity.date < p.start_date:
            errors.setdefault("date", []).append(
                _("活动日期早于%(child)s的结对日期(%(d)s)。") % {"child": p.child.name, "d": p.start_date}
            )
        elif p.end_date and activity.date and activity.date > p.end_date:
            errors.setdefault("date", []).append(
                _("活动日期晚于%(child)s的结对结束日期(%(d)s)。") % {"child": p.child.name, "d": p.end_date}
            )
    children = {p.child_id for p in served}
    if activity.children_reached < len(children):
        activity.children_reached = len(children)
    try:
        activity.full_clean()
    except ValidationError as exc:
        for key, messages in exc.message_dict.items():
            errors.setdefault(key, [])
            if not isinstance(errors[key], list):
                errors[key] = [errors[key]]
            errors[key].extend(messages)
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def record_activity(
    *,
    by,
    volunteer: Volunteer | None = None,
    team: Team | None = None,
    pairings=(),
    children=(),
    date: datetime.date,
    kind: str,
    **fields,
) -> ActivityLog:
    """File an activity log (status 待审核) for a volunteer or a team.

    The children served are given as `pairings` and/or `children` (each child is matched to the
    doer's active pairing). A volunteer may log for her own pairings and for those of the teams
    she is a current member of. `children_reached` is at least the number of children listed.
    Extra keyword arguments: mode, duration_minutes, children_reached, parents_reached, place,
    description, is_group, project.
    """
    unknown = set(fields) - set(ACTIVITY_FIELDS)
    if unknown:
        raise TypeError(f"unknown fields: {sorted(unknown)}")
    if (volunteer is None) == (team is None):
        raise ValidationError({"volunteer": _("请选择一位爱心妈妈或一支队伍(二者选一)。")})
    doer = volunteer or team
    activity = ActivityLog(
        volunteer=volunteer,
        team=team,
        federation_id=doer.federation_id,
        date=date,
        kind=kind,
        created_by=by if getattr(by, "pk", None) else None,
        **fields,
    )
    served = _pairings_served(volunteer=volunteer, team=team, pairings=pairings, children=children)
    _check_activity(activity, served)
    activity.save()
    activity.pairings.set(served)
    refresh_last_activity(p.pk for p in served)
    return activity


@transaction.atomic
def update_activity(*, activity: ActivityLog, by, pairings=None, children=(), **fields) -> ActivityLog:
    """Edit a log that is awaiting review or was returned; a returned log goes back for review."""
    unknown = set(fields) - set(ACTIVITY_FIELDS)
    if unknown:
        raise TypeError(f"unknown fields: {sorted(unknown)}")
    activity = ActivityLog.objects.select_for_update().get(pk=activity.pk)
    if not activity.editable_by_doer:
        raise ValidationError(_("“%(s)s”的帮扶记录不能修改。") % {"s": activity.get_status_display()})
    for name, value in fields.items():
        setattr(activity, name, value)
    before = list(activity.pairings.values_list("pk", flat=True))
    if pairings is None:
        pairings = list(activity.pairings.all())
    served = _pairings_served(volunteer=activity.volunteer, team=activity.team, pairings=pairings, children=children)
    _check_activity(activity, served)
    if activity.status == ReviewStatus.RETURNED:
        activity.status = ReviewStatus.SUBMITTED
    activity.save()
    activity.pairings.set(served)
    refresh_last_activity({*before, *(p.pk for p in served)})
    return activity


@transaction.atomic
def withdraw_activity(*, activity: ActivityLog, by) -> ActivityLog:
    """The doer withdraws a log not yet approved: it stays on file but no longer counts."""
    updated = ActivityLog.objects.filter(
        pk=activity.pk, status__in=[ReviewStatus.SUBMITTED, ReviewStatus.RETURNED]
    ).update(status=ReviewStatus.WITHDRAWN, updated_at=timezone.now())
    if not updated:
        raise ValidationError(_("只有待审核或已退回的帮扶记录可以撤回。"))
    refresh_last_activity(activity.pairings.values_list("pk", flat=True))
    activity.status = ReviewStatus.WITHDRAWN
    return activity


@transaction.atomic
def approve_activities(queryset, *, by) -> dict[str, int]:
    """Approve every log awaiting review in `queryset` (one UPDATE); others are skipped."""
    pks = list(queryset.values_list("pk", flat=True))
    approved = ActivityLog.objects.filter(pk__in=pks, status=ReviewStatus.SUBMITTED).update(
        status=ReviewStatus.APPROVED,
        reviewed_by=by if getattr(by, "pk", None) else None,
        reviewed_at=timezone.now(),
        review_comment="",
    )
    return {"approved": approved, "skipped": len(pks) - approved}


def approve_activity(*, activity: ActivityLog, by) -> ActivityLog:
    result = approve_activities(ActivityLog.objects.filter(pk=activity.pk), by=by)
    if not result["approved"]:
        raise ValidationError(_("只有待审核的帮扶记录可以审核通过。"))
    activity.refresh_from_db()
    return activity


@transaction.atomic
def return_activity(*, activity: ActivityLog, by, comment: str) -> ActivityLog:
    """Send a log back to its author with a comment (required)."""
    comment = (comment or "").strip()
    if not comment:
        raise ValidationError({"review_comment": _("退回时须填写审核意见。")})
    updated = ActivityLog.objects.filter(pk=activity.pk, status=ReviewStatus.SUBMITTED).update(
        status=ReviewStatus.RETURNED,
        review_comment=comment[:300],
        reviewed_by=by if getattr(by, "pk", None) else None,
        reviewed_at=timezone.now(),
    )
    if not updated:
        raise ValidationError(_("只有待审核的帮扶记录可以退回。"))
    refresh_last_activity(activity.pairings.values_list("pk", flat=True))
    activity.refresh_from_db()
    return activity


# --- cadence ----------------------------------------------------------------------------


@transaction.atomic
def set_cadence(*, risk_grade: str, days: int, by) -> CadenceSetting:
    """City-level staff set how often a pairing of a child of `risk_grade` must see an activity."""
    if not is_city_level(by):
        raise ValidationError(_("联系频次只能由市级工作人员调整。"))
    if risk_grade not in RiskGrade.values:
        raise ValidationError({"risk_grade": _("风险等级无效。")})
    if not isinstance(days, int) or days < 1 or days > 365:
        raise ValidationError({"days": _("间隔天数须为 1 到 365 之间的整数。")})
    setting, _created = CadenceSetting.objects.update_or_create(risk_grade=risk_grade, defaults={"days": days})
    return setting


# --- donations --------------------------------------------------------------------------


@transaction.atomic
def record_donation(*, donation: Donation, by) -> Donation:
    if donation.pk is not None:
        raise ValueError("record_donation() is for new donations")
    donation.created_by = by if getattr(by, "pk", None) else None
    donation.full_clean()
    donation.save()
    return donation


@transaction.atomic
def allocate_donation(
    *,
    donation: Donation,
    by,
    child: Child | None = None,
    village: Federation | None = None,
    team: Team | None = None,
    amount: Decimal | None = None,
    quantity: int | None = None,
    date: datetime.date | None = None,
    note: str = "",
) -> DonationAllocation:
    """Allocate part of a donation to a child, a village or a team.

    The total allocated may not exceed the donation's amount (cash) or quantity (goods). The
    donation row is locked, so two allocations at once cannot both take the last yuan.
    """
    locked = Donation.objects.select_for_update().get(pk=donation.pk)
    errors = {}
    if sum(x is not None for x in (child, village, team)) != 1:
        errors["child"] = _("分配对象须为一名儿童、一个村(居)或一支队伍(三者选一)。")
    if amount is None and quantity is None:
        errors["amount"] = _("请填写分配金额或数量。")
    if village is not None and village.level != Level.VILLAGE:
        errors["village"] = _("请选择村(居)级单位。")
    totals = DonationAllocation.objects.filter(donation=locked).aggregate(
        amount=Sum("amount"), quantity=Sum("quantity")
    )
    if amount is not None:
        amount = Decimal(amount)
        if amount <= 0:
            errors["amount"] = _("分配金额须大于 0。")
        else:
            limit = locked.amount if locked.amount is not None else locked.estimated_value
            allocated = totals["amount"] or Decimal("0")
            if limit is None:
                errors["amount"] = _("该捐赠没有金额或折价,不能按金额分配。")
            elif allocated + amount > limit:
                errors["amount"] = _("分配金额合计 %(total)s 元将超过捐赠金额 %(limit)s 元(已分配 %(done)s 元)。") % {
                    "total": allocated + amount,
                    "limit": limit,
                    "done": allocated,
                }
    if quantity is not None:
        allocated_q = totals["quantity"] or 0
        if quantity <= 0:
            errors["quantity"] = _("分配数量须大于 0。")
        elif locked.quantity is None:
            errors["quantity"] = _("该捐赠没有登记数量,不能按数量分配。")
        elif allocated_q + quantity > locked.quantity:
            errors["quantity"] = _("分配数量合计 %(total)d 将超过捐赠数量 %(limit)d(已分配 %(done)d)。") % {
                "total": allocated_q + quantity,
                "limit": locked.quantity,
                "done": allocated_q,
            }
    if errors:
        raise ValidationError(errors)
    allocation = DonationAllocation(
        donation=locked,
        child=child,
        village=village,
        team=team,
        amount=amount,
        quantity=quantity,
        date=date or timezone.localdate(),
        note=note,
    )
    allocation.full_clean()
    allocation.save()
    return allocation
