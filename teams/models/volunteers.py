"""Caring-mother volunteers (爱心妈妈): registry, onboarding status and safeguarding checks."""

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Exists, OuterRef, Q, Subquery
from django.db.models.functions import Upper
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from aixinmama.identity import (
    check_id_agrees,
    id_birth_date,
    mask_id_number,
    mask_phone,
    normalize_id_number,
    normalize_mobile,
    validate_id_number,
    validate_mobile,
)

from .federation import JurisdictionQuerySet
from .teams import TeamCategory


class Sex(models.TextChoices):
    FEMALE = "female", _("女")
    MALE = "male", _("男")


class VolunteerStatus(models.TextChoices):
    APPLIED = "applied", _("申请中")
    ACTIVE = "active", _("在岗")
    SUSPENDED = "suspended", _("暂停")
    LEFT = "left", _("已退出")


# Onboarding lifecycle: from -> allowed targets. Anyone not yet gone may leave.
ALLOWED_TRANSITIONS = {
    VolunteerStatus.APPLIED: {VolunteerStatus.ACTIVE, VolunteerStatus.LEFT},
    VolunteerStatus.ACTIVE: {VolunteerStatus.SUSPENDED, VolunteerStatus.LEFT},
    VolunteerStatus.SUSPENDED: {VolunteerStatus.ACTIVE, VolunteerStatus.LEFT},
    VolunteerStatus.LEFT: set(),
}


class SourceTagChoice(models.TextChoices):
    CADRE = "cadre", _("妇联干部")
    EXECUTIVE = "executive", _("妇联执委")
    RED_BANNER = "red_banner", _("三八红旗手")
    CIVILISED_POST = "civilised_post", _("巾帼文明岗")
    MODEL_FAMILY = "model_family", _("最美家庭")
    WOMEN_VOLUNTEER = "women_volunteer", _("巾帼志愿者")
    OTHER = "other", _("其他")


# Source tags and skills are multi-valued and filtered on in the changelist ("all 妇联执委",
# "everyone with 法律帮扶 skills"). They are stored as small lookup tables joined many-to-many,
# one row per choice, rather than a JSON list: a join on an indexed key filters the same way on
# SQLite and PostgreSQL (JSON containment is not available on SQLite), the foreign key makes an
# unknown value impossible, and no text is ever split.
class _ChoiceRowManager(models.Manager):
    def ensure_all(self):
        """Create the rows for every choice (the migration does it; flushed test databases need it)."""
        field = self.model._meta.get_field("code")
        existing = set(self.values_list("code", flat=True))
        self.bulk_create([self.model(code=code) for code, _label in field.choices if code not in existing])
        return self.all()

    def get_by_natural_key(self, code):
        return self.get(code=code)


class SourceTag(models.Model):
    code = models.CharField(_("来源"), max_length=20, choices=SourceTagChoice.choices, unique=True)

    objects = _ChoiceRowManager()

    class Meta:
        verbose_name = _("来源标签")
        verbose_name_plural = _("来源标签")
        ordering = ["id"]

    def __str__(self):
        return self.get_code_display()

    def natural_key(self):
        return (self.code,)


class SkillArea(models.Model):
    code = models.CharField(_("特长领域"), max_length=20, choices=TeamCategory.choices, unique=True)

    objects = _ChoiceRowManager()

    class Meta:
        verbose_name = _("特长领域")
        verbose_name_plural = _("特长领域")
        ordering = ["id"]

    def __str__(self):
        return self.get_code_display()

    def natural_key(self):
        return (self.code,)


def _valid_clear_checks(today: datetime.date):
    return SafeguardingCheck.objects.filter(
        volunteer=OuterRef("pk"),
        result=CheckResult.CLEAR,
        checked_on__lte=today,
        valid_until__gte=today,
    )


class VolunteerQuerySet(JurisdictionQuerySet):
    jurisdiction_field = "federation"

    def active(self):
        return self.filter(status=VolunteerStatus.ACTIVE)

    def eligible(self, on: datetime.date | None = None):
        """Volunteers who may be paired with a child on `on` (default today).

        Active, holding a clear safeguarding check valid that day, and with no check on file
        that found a record (a record found is never outweighed by a later clear result
        without a person looking at it: staff suspend or remove the volunteer instead).
        """
        today = on or timezone.localdate()
        return self.filter(status=VolunteerStatus.ACTIVE).filter(
            Exists(_valid_clear_checks(today)),
            ~Exists(SafeguardingCheck.objects.filter(volunteer=OuterRef("pk"), result=CheckResult.RECORD_FOUND)),
        )

    def with_check_valid_until(self):
        """Annotate `check_valid_until`: the latest expiry of the volunteer's clear checks (or None)."""
        latest = (
            SafeguardingCheck.objects.filter(volunteer=OuterRef("pk"), result=CheckResult.CLEAR)
            .order_by("-valid_until")
            .values("valid_until")[:1]
        )
        return self.annotate(check_valid_until=Subquery(latest))

    def check_expiring(self, within_days: int = 30, on: datetime.date | None = None):
        """Volunteers whose clear check is valid today but expires within `within_days` days."""
        today = on or timezone.localdate()
        return self.with_check_valid_until().filter(
            check_valid_until__gte=today, check_valid_until__lte=today + datetime.timedelta(days=within_days)
        )

    def check_expired(self, on: datetime.date | None = None):
        """Volunteers who had a clear check but none is valid any more."""
        today = on or timezone.localdate()
        return self.with_check_valid_until().filter(check_valid_until__lt=today)

    def without_check(self):
        """Volunteers with no clear check on file at all."""
        return self.with_check_valid_until().filter(check_valid_until__isnull=True)


class Volunteer(models.Model):
    name = models.CharField(_("姓名"), max_length=50)
    sex = models.CharField(_("性别"), max_length=6, choices=Sex.choices, default=Sex.FEMALE)
    id_number = models.CharField(
        _("身份证号码"),
        max_length=18,
        unique=True,
        help_text=_("18 位居民身份证号码;出生日期由号码自动得出。"),
    )
    birth_date = models.DateField(_("出生日期"), editable=False)
    mobile = models.CharField(_("手机号码"), max_length=11)
    federation = models.ForeignKey(
        "teams.Federation",
        verbose_name=_("所属妇联"),
        on_delete=models.PROTECT,
        related_name="volunteers",
        help_text=_("招募并管理该爱心妈妈的妇联单位。"),
    )
    address = models.CharField(_("居住地址"), max_length=200, blank=True)
    employer = models.CharField(_("工作单位或职业"), max_length=100, blank=True)
    source_tags = models.ManyToManyField(SourceTag, verbose_name=_("来源"), blank=True, related_name="volunteers")
    skills = models.ManyToManyField(SkillArea, verbose_name=_("特长领域"), blank=True, related_name="volunteers")
    capacity = models.PositiveSmallIntegerField(
        _("可结对儿童数"), default=1, help_text=_("该爱心妈妈最多可同时结对关爱的儿童人数。")
    )
    status = models.CharField(
        _("状态"), max_length=10, choices=VolunteerStatus.choices, default=VolunteerStatus.APPLIED, editable=False
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("登录账号"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="volunteer",
    )
    notes = models.TextField(_("备注"), blank=True)
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    objects = VolunteerQuerySet.as_manager()
    # What changed, when and by whom (django-simple-history); bulk paths use aixinmama.history.
    history = HistoricalRecords(verbose_name=_("爱心妈妈变更记录"), excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("爱心妈妈")
        verbose_name_plural = _("爱心妈妈")
        ordering = ["federation__path", "name"]
        permissions = [("view_full_identity", _("可查看完整身份证号"))]
        constraints = [
            # ID numbers are stored normalised (upper-case X) so the unique key deduplicates.
            models.CheckConstraint(condition=Q(id_number=Upper("id_number")), name="volunteer_id_number_upper"),
            models.CheckConstraint(condition=Q(status__in=VolunteerStatus.values), name="volunteer_status_valid"),
        ]
        indexes = [
            # eligible() and the status filter of the changelist.
            models.Index(fields=["status"], name="volunteer_status_idx"),
        ]

    def __str__(self):
        return self.name

    @property
    def masked_id_number(self) -> str:
        return mask_id_number(self.id_number)

    @property
    def masked_mobile(self) -> str:
        return mask_phone(self.mobile)

    def clean_fields(self, exclude=None):
        self.id_number = normalize_id_number(self.id_number)
        self.mobile = normalize_mobile(self.mobile)
        errors = {}
        exclude = set(exclude or ())
        if "id_number" not in exclude:
            try:
                validate_id_number(self.id_number)
            except ValidationError as e:
                errors["id_number"] = e.messages
            else:
                self.birth_date = id_birth_date(self.id_number)
        if "mobile" not in exclude:
            try:
                validate_mobile(self.mobile)
            except ValidationError as e:
                errors["mobile"] = e.messages
        exclude |= set(errors)
        if self.birth_date is None:
            exclude.add("birth_date")  # derived from the ID number; its error is reported there
        try:
            super().clean_fields(exclude=exclude)
        except ValidationError as e:
            errors.update(e.message_dict)
        if errors:
            raise ValidationError(errors)

    def clean(self):
        if not self.id_number:
            return
        try:
            validate_id_number(self.id_number)
        except ValidationError:
            return  # reported by clean_fields
        mismatch = check_id_agrees(self.id_number, birth_date=None, sex=self.sex)
        if mismatch:
            raise ValidationError(mismatch)

    def sync_from_id_number(self):
        """Set the fields the ID number determines (for code that skips full_clean, e.g. bulk loads)."""
        self.id_number = normalize_id_number(self.id_number)
        self.birth_date = id_birth_date(self.id_number)

    def can_change_status_to(self, to: str) -> bool:
        return to in ALLOWED_TRANSITIONS.get(self.status, set())


class VolunteerStatusChangeQuerySet(JurisdictionQuerySet):
    jurisdiction_field = "volunteer__federation"


class VolunteerStatusChange(models.Model):
    """One step of a volunteer's onboarding lifecycle. Rows are only ever added."""

    volunteer = models.ForeignKey(
        Volunteer, verbose_name=_("爱心妈妈"), on_delete=models.CASCADE, related_name="status_changes"
    )
    from_status = models.CharField(_("原状态"), max_length=10, choices=VolunteerStatus.choices, blank=True)
    to_status = models.CharField(_("新状态"), max_length=10, choices=VolunteerStatus.choices)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    changed_at = models.DateTimeField(_("时间"), default=timezone.now)
    note = models.CharField(_("说明"), max_length=200, blank=True)

    objects = VolunteerStatusChangeQuerySet.as_manager()

    class Meta:
        verbose_name = _("状态变更记录")
        verbose_name_plural = _("状态变更记录")
        ordering = ["volunteer", "changed_at", "id"]
        constraints = [
            models.CheckConstraint(condition=~Q(from_status=models.F("to_status")), name="statuschange_changes"),
        ]

    def __str__(self):
        return f"{self.get_from_status_display() or '—'} → {self.get_to_status_display()}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise ValueError("Status history is append-only.")
        super().save(*args, **kwargs)


class CheckResult(models.TextChoices):
    CLEAR = "clear", _("无违法犯罪记录")
    RECORD_FOUND = "record_found", _("有相关记录")
    PENDING = "pending", _("查询中")


class SafeguardingCheckQuerySet(JurisdictionQuerySet):
    jurisdiction_field = "volunteer__federation"


class SafeguardingCheck(models.Model):
    """无违法犯罪记录查询: the background check required before working with children."""

    volunteer = models.ForeignKey(
        Volunteer, verbose_name=_("爱心妈妈"), on_delete=models.CASCADE, related_name="safeguarding_checks"
    )
    checked_on = models.DateField(_("查询日期"))
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("经办人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    authority = models.CharField(_("出具机关"), max_length=100, blank=True, help_text=_("如某某派出所。"))
    result = models.CharField(_("查询结果"), max_length=15, choices=CheckResult.choices, default=CheckResult.PENDING)
    valid_until = models.DateField(_("有效期至"))
    note = models.CharField(_("备注"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("录入时间"), auto_now_add=True)

    objects = SafeguardingCheckQuerySet.as_manager()

    class Meta:
        verbose_name = _("无犯罪记录查询")
        verbose_name_plural = _("无犯罪记录查询")
        ordering = ["volunteer", "-checked_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_until__gte=models.F("checked_on")),
                name="safeguardingcheck_valid_after_checked",
                violation_error_message=_("有效期不能早于查询日期。"),
            ),
        ]
        indexes = [
            # eligible(): a clear check valid today, per volunteer.
            models.Index(fields=["volunteer", "result", "valid_until"], name="check_volunteer_valid_idx"),
        ]

    def __str__(self):
        return f"{self.get_result_display()}({self.checked_on}–{self.valid_until})"

    def clean(self):
        if self.checked_on and self.checked_on > timezone.localdate():
            raise ValidationError({"checked_on": _("查询日期不能晚于今天。")})
