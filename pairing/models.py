"""Pairings (结对), activity logs (帮扶记录), contact cadence and donations.

Scoping (every queryset subclasses `JurisdictionQuerySet`):
- `Pairing` belongs to the child's village (`child__village`): a district sees every pairing
  of its children, whoever the volunteer or team is (a city-level specialty team included).
- `ActivityLog` belongs to the unit of whoever did it (the volunteer's or the team's
  federation). It is stored on the row (`federation`, set by the service from the doer) so the
  scope is one indexed prefix query; a district therefore sees the logs of its own volunteers
  and teams, and a city-level team's logs are seen by the city.
- `Donor`, `Donation` belong to the unit that recorded them; an allocation to its donation's unit.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from children.models import RiskGrade
from teams.models import JurisdictionQuerySet

# --- pairings -------------------------------------------------------------------------


class PairingStatus(models.TextChoices):
    ACTIVE = "active", _("结对中")
    ENDED = "ended", _("已结束")


class EndReason(models.TextChoices):
    CHILD_LEFT = "child_left", _("儿童退出项目")
    VOLUNTEER_LEFT = "volunteer_left", _("爱心妈妈退出")
    REASSIGNED = "reassigned", _("调整结对")
    FAMILY_REQUEST = "family_request", _("家庭要求")
    OTHER = "other", _("其他")


class PairingQuerySet(JurisdictionQuerySet):
    jurisdiction_field = "child__village"

    def active(self):
        return self.filter(status=PairingStatus.ACTIVE)

    def of_volunteer(self, volunteer, *, through_teams: bool = True):
        """Pairings of `volunteer`: her own and, by default, those of the teams she is a current member of."""
        condition = Q(volunteer=volunteer)
        if through_teams:
            condition |= Q(team__memberships__volunteer=volunteer, team__memberships__left_on__isnull=True)
        return self.filter(condition).distinct()


class Pairing(models.Model):
    child = models.ForeignKey(
        "children.Child", verbose_name=_("儿童"), on_delete=models.PROTECT, related_name="pairings"
    )
    volunteer = models.ForeignKey(
        "teams.Volunteer",
        verbose_name=_("爱心妈妈"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="pairings",
    )
    team = models.ForeignKey(
        "teams.Team",
        verbose_name=_("队伍"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="pairings",
    )
    start_date = models.DateField(_("结对日期"), default=timezone.localdate)
    status = models.CharField(
        _("状态"), max_length=10, choices=PairingStatus.choices, default=PairingStatus.ACTIVE, editable=False
    )
    end_date = models.DateField(_("结束日期"), null=True, blank=True, editable=False)
    end_reason = models.CharField(_("结束原因"), max_length=20, choices=EndReason.choices, blank=True, editable=False)
    end_note = models.CharField(_("结束说明"), max_length=200, blank=True, editable=False)
    reason = models.CharField(
        _("跨区结对原因"),
        max_length=200,
        blank=True,
        help_text=_("爱心妈妈或队伍不在儿童所在村(居)、其上级或同一区时,由市级工作人员填写。"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("建立人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("结束人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    created_at = models.DateTimeField(_("建立时间"), auto_now_add=True)
    # Derived: the date of the latest submitted or approved activity log of this pairing (NULL if
    # none). Kept by pairing.services.refresh_last_activity, in the same transaction as every
    # write to activity logs, so overdue and coverage read a column instead of computing
    # MAX(date) over a million logs (see selectors.computed_last_activity for the definition).
    last_activity_on = models.DateField(_("最近帮扶日期"), null=True, blank=True, editable=False)

    objects = PairingQuerySet.as_manager()
    # Who created, changed and ended it (django-simple-history); the derived last-activity
    # date is left out, and bulk paths write their history through aixinmama.history.
    history = HistoricalRecords(verbose_name=_("结对变更记录"), excluded_fields=["last_activity_on"])

    class Meta:
        verbose_name = _("结对")
        verbose_name_plural = _("结对")
        ordering = ["-start_date", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(volunteer__isnull=False, team__isnull=True) | Q(volunteer__isnull=True, team__isnull=False)
                ),
                name="pairing_volunteer_xor_team",
                violation_error_message=_("结对对象须为一位爱心妈妈或一支队伍(二者选一)。"),
            ),
            models.UniqueConstraint(
                fields=["child", "volunteer"],
                condition=Q(status="active"),
                name="pairing_one_active_per_child_volunteer",
                violation_error_message=_("该儿童已与这位爱心妈妈结对。"),
            ),
            models.UniqueConstraint(
                fields=["child", "team"],
                condition=Q(status="active"),
                name="pairing_one_active_per_child_team",
                violation_error_message=_("该儿童已与这支队伍结对。"),
            ),
            models.CheckConstraint(
                condition=(
                    Q(status="active", end_date__isnull=True, end_reason="")
                    | (Q(status="ended", end_date__isnull=False) & ~Q(end_reason=""))
                ),
                name="pairing_ended_iff_end_date",
            ),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=models.F("start_date")),
                name="pairing_ends_after_start",
                violation_error_message=_("结束日期不能早于结对日期。"),
            ),
        ]
        indexes = [
            # Coverage and "is this child paired": EXISTS(active pairing WHERE child_id = ...).
            models.Index(fields=["child", "status"], name="pairing_child_status_idx"),
            # Capacity: COUNT(active pairings) of a volunteer / of a team.
            models.Index(fields=["volunteer", "status"], name="pairing_volunteer_status_idx"),
            models.Index(fields=["team", "status"], name="pairing_team_status_idx"),
        ]

    def __str__(self):
        return f"{self.child} · {self.partner}"

    @property
    def partner(self):
        """The volunteer or the team."""
        return self.volunteer if self.volunteer_id else self.team

    @property
    def is_active(self) -> bool:
        return self.status == PairingStatus.ACTIVE


# --- contact cadence --------------------------------------------------------------------

DEFAULT_CADENCE_DAYS = {RiskGrade.RED: 14, RiskGrade.ORANGE: 30, RiskGrade.YELLOW: 60, RiskGrade.GREEN: 90}


class CadenceSettingQuerySet(models.QuerySet):
    def days_by_grade(self) -> dict[str, int]:
        """{risk grade: days}, defaults filled in for any grade without a row (one query)."""
        days = {str(k): v for k, v in DEFAULT_CADENCE_DAYS.items()}
        days.update(dict(self.values_list("risk_grade", "days")))
        return days


class CadenceSetting(models.Model):
    """How often a pairing must see an activity, per risk grade (联系频次)."""

    risk_grade = models.CharField(_("风险等级"), max_length=6, choices=RiskGrade.choices, unique=True)
    days = models.PositiveSmallIntegerField(_("最长间隔天数"), help_text=_("超过此天数没有帮扶记录即为“逾期未联系”。"))
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    objects = CadenceSettingQuerySet.as_manager()

    class Meta:
        verbose_name = _("联系频次")
        verbose_name_plural = _("联系频次")
        ordering = ["days"]
        constraints = [models.CheckConstraint(condition=Q(days__gte=1), name="cadence_days_positive")]

    def __str__(self):
        return _("%(grade)s:每 %(days)d 天") % {"grade": self.get_risk_grade_display(), "days": self.days}


# --- activity logs ---------------------------------------------------------------------


class ActivityKind(models.TextChoices):
    HOME_VISIT = "home_visit", _("家访")
    DAILY_LIFE = "daily_life", _("生活帮助")
    STUDY = "study", _("学习帮扶")
    COUNSELLING = "counselling", _("心理疏导")
    LEGAL_AID = "legal_aid", _("法律帮扶")
    FAMILY_EDUCATION = "family_education", _("家庭教育")
    SPECIAL_EDUCATION = "special_education", _("特殊教育")
    CULTURE = "culture", _("阅读/文化活动")
    FESTIVAL = "festival", _("节日慰问")
    OTHER = "other", _("其他")


class ActivityMode(models.TextChoices):
    OFFLINE = "offline", _("线下")
    ONLINE = "online", _("线上")


class ReviewStatus(models.TextChoices):
    SUBMITTED = "submitted", _("待审核")
    APPROVED = "approved", _("已通过")
    RETURNED = "returned", _("已退回")
    WITHDRAWN = "withdrawn", _("已撤回")


# Logs that count as contact with the child (cadence, overdue, last activity).
CONTACT_STATUSES = [ReviewStatus.SUBMITTED, ReviewStatus.APPROVED]


class ActivityLogQuerySet(JurisdictionQuerySet):
    jurisdiction_field = "federation"

    def counting(self):
        return self.filter(status__in=CONTACT_STATUSES)


class ActivityLog(models.Model):
    federation = models.ForeignKey(
        "teams.Federation",
        verbose_name=_("所属妇联"),
        on_delete=models.PROTECT,
        related_name="activity_logs",
        editable=False,
        help_text=_("记录人(爱心妈妈或队伍)所属的妇联单位,用于按辖区查看。"),
    )
    volunteer = models.ForeignKey(
        "teams.Volunteer",
        verbose_name=_("爱心妈妈"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="activity_logs",
    )
    team = models.ForeignKey(
        "teams.Team",
        verbose_name=_("队伍"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="activity_logs",
    )
    pairings = models.ManyToManyField(
        Pairing,
        verbose_name=_("服务的结对"),
        blank=True,
        related_name="activity_logs",
        help_text=_("本次活动服务的结对儿童;集体活动可不选。"),
    )
    is_group = models.BooleanField(_("集体活动"), default=False, help_text=_("队伍组织的集体活动。"))
    project = models.ForeignKey(
        "teams.Project",
        verbose_name=_("所属项目"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="activity_logs",
    )
    date = models.DateField(_("活动日期"))
    kind = models.CharField(_("帮扶类型"), max_length=20, choices=ActivityKind.choices)
    mode = models.CharField(_("形式"), max_length=10, choices=ActivityMode.choices, default=ActivityMode.OFFLINE)
    duration_minutes = models.PositiveIntegerField(_("时长(分钟)"), default=60)
    children_reached = models.PositiveIntegerField(_("服务儿童人次"), default=0)
    parents_reached = models.PositiveIntegerField(_("服务家长人次"), default=0)
    place = models.CharField(_("地点"), max_length=200, blank=True)
    description = models.TextField(_("活动内容"), blank=True)

    status = models.CharField(
        _("审核状态"), max_length=10, choices=ReviewStatus.choices, default=ReviewStatus.SUBMITTED, editable=False
    )
    review_comment = models.CharField(_("审核意见"), max_length=300, blank=True, editable=False)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("审核人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    reviewed_at = models.DateTimeField(_("审核时间"), null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("填报人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    created_at = models.DateTimeField(_("填报时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    objects = ActivityLogQuerySet.as_manager()

    class Meta:
        verbose_name = _("帮扶记录")
        verbose_name_plural = _("帮扶记录")
        ordering = ["-date", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(volunteer__isnull=False, team__isnull=True) | Q(volunteer__isnull=True, team__isnull=False)
                ),
                name="activitylog_volunteer_xor_team",
                violation_error_message=_("帮扶记录须由一位爱心妈妈或一支队伍填报(二者选一)。"),
            ),
            models.CheckConstraint(
                condition=Q(is_group=False) | Q(team__isnull=False),
                name="activitylog_group_by_team",
                violation_error_message=_("集体活动须由队伍填报。"),
            ),
            models.CheckConstraint(condition=Q(status__in=ReviewStatus.values), name="activitylog_status_valid"),
        ]
        indexes = [
            # Review queue: WHERE status = 'submitted' ORDER BY date.
            models.Index(fields=["status", "date"], name="activitylog_status_date_idx"),
        ]

    def __str__(self):
        return f"{self.date} {self.get_kind_display()} · {self.doer}"

    @property
    def doer(self):
        return self.volunteer if self.volunteer_id else self.team

    @property
    def editable_by_doer(self) -> bool:
        return self.status in (ReviewStatus.SUBMITTED, ReviewStatus.RETURNED)

    def clean(self):
        errors = {}
        if self.date and self.date > timezone.localdate():
            errors["date"] = _("活动日期不能晚于今天。")
        if bool(self.volunteer_id) == bool(self.team_id):
            errors["volunteer"] = _("请选择一位爱心妈妈或一支队伍(二者选一)。")
        if self.is_group and not self.team_id:
            errors["is_group"] = _("集体活动须由队伍填报。")
        if self.project_id and self.project.team_id != self.team_id:
            errors["project"] = _("所选项目不属于该队伍。")
        if errors:
            raise ValidationError(errors)


# --- donations -------------------------------------------------------------------------


class DonorKind(models.TextChoices):
    ENTERPRISE = "enterprise", _("企业")
    INSTITUTION = "institution", _("机构/社会组织")
    INDIVIDUAL = "individual", _("个人")
    FEDERATION = "federation", _("妇联组织")


class DonorQuerySet(JurisdictionQuerySet):
    jurisdiction_field = "federation"


class Donor(models.Model):
    kind = models.CharField(_("捐赠方类型"), max_length=12, choices=DonorKind.choices)
    name = models.CharField(_("名称/姓名"), max_length=100)
    unit = models.ForeignKey(
        "teams.Federation",
        verbose_name=_("对应妇联单位"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("捐赠方为妇联组织时选择。"),
    )
    contact = models.CharField(_("联系方式"), max_length=100, blank=True)
    federation = models.ForeignKey(
        "teams.Federation",
        verbose_name=_("登记单位"),
        on_delete=models.PROTECT,
        related_name="donors",
    )

    objects = DonorQuerySet.as_manager()

    class Meta:
        verbose_name = _("捐赠方")
        verbose_name_plural = _("捐赠方")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["federation", "name"], name="donor_unique_name_per_unit"),
            models.CheckConstraint(
                condition=Q(kind="federation", unit__isnull=False) | (~Q(kind="federation") & Q(unit__isnull=True)),
                name="donor_unit_iff_federation",
                violation_error_message=_("捐赠方为妇联组织时须选择对应单位,其他类型不选。"),
            ),
        ]

    def __str__(self):
        return self.name


class DonationKind(models.TextChoices):
    CASH = "cash", _("资金")
    IN_KIND = "in_kind", _("物资")
    SERVICE = "service", _("服务")


class DonationQuerySet(JurisdictionQuerySet):
    jurisdiction_field = "federation"


class Donation(models.Model):
    donor = models.ForeignKey(Donor, verbose_name=_("捐赠方"), on_delete=models.PROTECT, related_name="donations")
    date = models.DateField(_("捐赠日期"))
    kind = models.CharField(_("捐赠类型"), max_length=10, choices=DonationKind.choices)
    amount = models.DecimalField(_("金额(元)"), max_digits=14, decimal_places=2, null=True, blank=True)
    items = models.CharField(_("物资/服务内容"), max_length=200, blank=True)
    quantity = models.PositiveIntegerField(_("数量"), null=True, blank=True)
    estimated_value = models.DecimalField(_("折价(元)"), max_digits=14, decimal_places=2, null=True, blank=True)
    receiving_body = models.CharField(
        _("受赠方"), max_length=100, blank=True, help_text=_("如市妇女儿童发展基金会;受赠方为妇联单位时选择下一项。")
    )
    receiving_unit = models.ForeignKey(
        "teams.Federation",
        verbose_name=_("受赠妇联单位"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="donations_received",
    )
    purpose = models.CharField(_("定向用途"), max_length=200, blank=True)
    receipt_number = models.CharField(_("收据编号"), max_length=50, blank=True)
    federation = models.ForeignKey(
        "teams.Federation", verbose_name=_("登记单位"), on_delete=models.PROTECT, related_name="donations_recorded"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("登记人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    objects = DonationQuerySet.as_manager()

    class Meta:
        verbose_name = _("捐赠")
        verbose_name_plural = _("捐赠")
        ordering = ["-date", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__isnull=True) | Q(amount__gt=0),
                name="donation_amount_positive",
                violation_error_message=_("金额须大于 0。"),
            ),
            models.CheckConstraint(
                condition=~Q(kind="cash") | Q(amount__isnull=False),
                name="donation_cash_has_amount",
                violation_error_message=_("资金捐赠须填写金额。"),
            ),
            models.CheckConstraint(
                condition=Q(estimated_value__isnull=True) | Q(estimated_value__gte=0),
                name="donation_value_not_negative",
            ),
            models.CheckConstraint(
                condition=~Q(receiving_body="") | Q(receiving_unit__isnull=False),
                name="donation_has_receiver",
                violation_error_message=_("请填写受赠方或选择受赠妇联单位。"),
            ),
            models.UniqueConstraint(
                fields=["receipt_number"], condition=~Q(receipt_number=""), name="donation_unique_receipt"
            ),
        ]

    def __str__(self):
        what = f"{self.amount} 元" if self.amount is not None else f"{self.items} × {self.quantity or ''}"
        return f"{self.donor} {self.date} {what}"

    @property
    def receiver(self) -> str:
        return str(self.receiving_unit) if self.receiving_unit_id else self.receiving_body

    @property
    def value(self):
        """Yuan: the amount, or the estimated value of goods/services."""
        return self.amount if self.amount is not None else self.estimated_value

    def clean(self):
        errors = {}
        if self.kind == DonationKind.CASH and self.amount is None:
            errors["amount"] = _("资金捐赠须填写金额。")
        if self.kind in (DonationKind.IN_KIND, DonationKind.SERVICE) and not self.items:
            errors["items"] = _("物资或服务捐赠须填写内容。")
        if self.date and self.date > timezone.localdate():
            errors["date"] = _("捐赠日期不能晚于今天。")
        if not self.receiving_body and not self.receiving_unit_id:
            errors["receiving_body"] = _("请填写受赠方或选择受赠妇联单位。")
        if errors:
            raise ValidationError(errors)


class DonationAllocationQuerySet(JurisdictionQuerySet):
    jurisdiction_field = "donation__federation"


class DonationAllocation(models.Model):
    donation = models.ForeignKey(Donation, verbose_name=_("捐赠"), on_delete=models.PROTECT, related_name="allocations")
    child = models.ForeignKey(
        "children.Child", verbose_name=_("儿童"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    village = models.ForeignKey(
        "teams.Federation",
        verbose_name=_("村(居)"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="donation_allocations",
    )
    team = models.ForeignKey(
        "teams.Team", verbose_name=_("队伍"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    amount = models.DecimalField(_("金额(元)"), max_digits=14, decimal_places=2, null=True, blank=True)
    quantity = models.PositiveIntegerField(_("数量"), null=True, blank=True)
    date = models.DateField(_("分配日期"), default=timezone.localdate)
    note = models.CharField(_("说明"), max_length=200, blank=True)

    objects = DonationAllocationQuerySet.as_manager()

    class Meta:
        verbose_name = _("捐赠分配")
        verbose_name_plural = _("捐赠分配")
        ordering = ["donation", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(child__isnull=False, village__isnull=True, team__isnull=True)
                    | Q(child__isnull=True, village__isnull=False, team__isnull=True)
                    | Q(child__isnull=True, village__isnull=True, team__isnull=False)
                ),
                name="allocation_one_recipient",
                violation_error_message=_("分配对象须为一名儿童、一个村(居)或一支队伍(三者选一)。"),
            ),
            models.CheckConstraint(
                condition=Q(amount__isnull=False) | Q(quantity__isnull=False),
                name="allocation_amount_or_quantity",
                violation_error_message=_("请填写分配金额或数量。"),
            ),
            models.CheckConstraint(
                condition=Q(amount__isnull=True) | Q(amount__gt=0), name="allocation_amount_positive"
            ),
        ]

    def __str__(self):
        what = f"{self.amount} 元" if self.amount is not None else f"× {self.quantity}"
        return f"{self.recipient} {what}"

    @property
    def recipient(self):
        return self.child or self.village or self.team
