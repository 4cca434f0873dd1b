"""Writes with rules on the children register: risk grading and ageing out."""

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from aixinmama.history import record_bulk_history

from .models import AGE_OUT, Child, ChildStatus, ExitReason, RiskGrade, birthday_at
from .selectors import find_possible_duplicates

__all__ = ["age_out_children", "find_possible_duplicates", "set_risk_grade", "AgedOut"]


class AgedOut(list):
    """The children `age_out_children` marked as left: a list of (pk, name, exit_date)."""


@transaction.atomic
def age_out_children(*, today: datetime.date | None = None) -> AgedOut:
    """Mark every in-programme child who is 18 or older at `today` as left (aged out).

    The exit date is the child's 18th birthday, not the day the job ran: the rule is that
    a child leaves the programme at 18, and a late or missed run must not move that date
    (someone born on 29 February turns 18 on 1 March of a common year). Running it again
    changes nothing. Returns the changed children; `len()` is the count.
    """
    today = today or timezone.localdate()
    due = list(
        Child.objects.in_programme()
        .turned_18_by(today)
        .select_for_update()
        .only("pk", "name", "birth_date")
        .order_by("pk")
    )
    changed = AgedOut()
    if not due:
        return changed
    for child in due:
        child.status = ChildStatus.LEFT
        child.exit_reason = ExitReason.AGED_OUT
        child.exit_date = birthday_at(child.birth_date, AGE_OUT)
        child.updated_at = timezone.now()
        changed.append((child.pk, child.name, child.exit_date))
    Child.objects.bulk_update(due, ["status", "exit_reason", "exit_date", "updated_at"], batch_size=500)
    record_bulk_history(Child, [child.pk for child in due], reason="年满18周岁退出")  # re-read: `due` is deferred
    return changed


@transaction.atomic
def set_risk_grade(*, child: Child, grade: str, reason: str, by=None, today: datetime.date | None = None) -> Child:
    """Staff set a child's risk grade, recording the date, the reason and who did it."""
    if grade not in RiskGrade.values:
        raise ValidationError({"risk_grade": _("风险等级无效:%(v)s。") % {"v": grade}})
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"risk_reason": _("调整风险等级时须填写原因。")})
    child.risk_grade = grade
    child.risk_reason = reason
    child.risk_changed_on = today or timezone.localdate()
    child.risk_changed_by = by if getattr(by, "pk", None) else None
    child.full_clean()
    child.save()
    return child
