"""The register of children in difficulty (困境儿童), their guardians and the guardians' consent.

This is the most sensitive data in the system. Every queryset here subclasses
`JurisdictionQuerySet`, so `teams.selectors.visible_to` scopes it to a user's subtree;
identity numbers and phones are masked for anyone without `children.view_full_identity`.

Categories and needs are many-to-many relations to two tiny lookup tables whose primary key
*is* the choice code (`Category.code`, `Need.code`, seeded by the initial migration). We chose
this over a JSON list because a relation is typed and checked by the database (a foreign key,
not a string in a list), filters the same way on SQLite and PostgreSQL
(`Child.objects.filter(needs=NeedCode.STUDY)`; JSON `contains` does not exist on SQLite), gets
the admin's stock relation filter, and is indexed by the through table.
"""

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from aixinmama.identity import (
    check_id_agrees,
    normalize_id_number,
    normalize_mobile,
    validate_id_number,
    validate_mobile,
)
from teams.models import FederationKind, JurisdictionQuerySet, Level

CONSENT_AGE = 14  # PIPL art. 31: a child under 14 needs a guardian's consent
AGE_OUT = 18  # a child leaves the programme at 18


# --- dates ------------------------------------------------------------------------


def years_before(day: datetime.date, years: int) -> datetime.date:
    """The latest birth date of someone who is `years` old on `day` (29 Feb -> 28 Feb)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def birthday_at(birth: datetime.date, age: int) -> datetime.date:
    """The day someone born on `birth` turns `age` (born 29 Feb -> 1 March in a common year)."""
    try:
        return birth.replace(year=birth.year + age)
    except ValueError:
        return datetime.date(birth.year + age, 3, 1)


def age_on(birth: datetime.date, day: datetime.date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def mask_name(name: str) -> str:
    """Family name kept, the rest starred (张**), for logs and command output."""
    name = (name or "").strip()
    return name[:1] + "*" * max(len(name) - 1, 1) if name else ""


# --- choices ----------------------------------------------------------------------


class Sex(models.TextChoices):
    # Values match aixinmama.identity.id_sex().
    MALE = "male", _("男")
    FEMALE = "female", _("女")


class CategoryCode(models.TextChoices):
    LEFT_BEHIND = "left_behind", _("留守儿童")
    MIGRANT = "migrant", _("流动儿童")
    ORPHAN = "orphan", _("孤儿")
    UNSUPPORTED = "unsupported", _("事实无人抚养儿童")
    SERIOUSLY_ILL = "seriously_ill", _("重病儿童")
    DISABLED = "disabled", _("残疾儿童")
    LOW_INCOME = "low_income", _("低保/特困家庭儿童")
    OTHER = "other", _("其他困境")


class NeedCode(models.TextChoices):
    DAILY_LIFE = "daily_life", _("生活帮助")
    STUDY = "study", _("学习帮扶")
    PSYCHOLOGICAL = "psychological", _("心理疏导")
    LEGAL = "legal", _("法律帮扶")
    FAMILY_EDUCATION = "family_education", _("家庭教育")
    SPECIAL_EDUCATION = "special_education", _("特殊教育")


class RiskGrade(models.TextChoices):
    RED = "red", _("红")
    ORANGE = "orange", _("橙")
    YELLOW = "yellow", _("黄")
    GREEN = "green", _("绿")

    @property
    def colour(self) -> str:
        return RISK_COLOURS[self.value]


RISK_COLOURS = {"red": "#d32f2f", "orange": "#ef6c00", "yellow": "#f9a825", "green": "#2e7d32"}


class ChildStatus(models.TextChoices):
    IN_PROGRAMME = "in_programme", _("在册")
    LEFT = "left", _("已退出")


class ExitReason(models.TextChoices):
    AGED_OUT = "aged_out", _("年满18周岁")
    MOVED_AWAY = "moved_away", _("迁出本地")
    RESOLVED = "resolved", _("困境已解除")
    OTHER = "other", _("其他")


class GuardianRelation(models.TextChoices):
    FATHER = "father", _("父亲")
    MOTHER = "mother", _("母亲")
    GRANDFATHER = "grandfather", _("祖父/外祖父")
    GRANDMOTHER = "grandmother", _("祖母/外祖母")
    SIBLING = "sibling", _("兄姐")
    RELATIVE = "relative", _("其他亲属")
    FOSTER = "foster", _("寄养/委托照护人")
    INSTITUTION = "institution", _("机构监护")
    OTHER = "other", _("其他")


class ConsentMethod(models.TextChoices):
    PAPER_FORM = "paper_form", _("纸质同意书")
    IN_PERSON = "in_person", _("当面口头同意")
    OTHER = "other", _("其他")


# --- lookup tables for the multi-valued fields ----------------------------------------


class Category(models.Model):
    code = models.CharField(_("代码"), max_length=20, primary_key=True, choices=CategoryCode.choices)

    class Meta:
        verbose_name = _("困境类别")
        verbose_name_plural = _("困境类别")
        ordering = ["code"]

    def __str__(self):
        return self.get_code_display()


class Need(models.Model):
    code = models.CharField(_("代码"), max_length=20, primary_key=True, choices=NeedCode.choices)

    class Meta:
        verbose_name = _("帮扶需求")
        verbose_name_plural = _("帮扶需求")
        ordering = ["code"]

    def __str__(self):
        return self.get_code_display()


# --- children -----------------------------------------------------------------------


class ChildQuerySet(JurisdictionQuerySet):
    jurisdiction_field = "village"

    def in_programme(self):
        return self.filter(status=ChildStatus.IN_PROGRAMME)

    def with_consent_flag(self):
        """Annotate `has_consent` (a consent record exists) in the same query."""
        return self.annotate(has_consent=Exists(ConsentRecord.objects.filter(child=OuterRef("pk"))))

    def under(self, age: int, today: datetime.date):
        return self.filter(birth_date__gt=years_before(today, age))

    def missing_consent(self, today: datetime.date | None = None):
        """Children under 14 at `today` with no consent record: one query (NOT EXISTS)."""
        today = today or timezone.localdate()
        return self.under(CONSENT_AGE, today).filter(~Exists(ConsentRecord.objects.filter(child=OuterRef("pk"))))

    def turned_18_by(self, day: datetime.date):
        return self.filter(birth_date__lte=years_before(day, AGE_OUT))

    def possible_duplicates_of(self, name: str, birth_date: datetime.date):
        # Served by child_name_birth_idx.
        return self.filter(name=(name or "").strip(), birth_date=birth_date)


def _village_choices():
    return Q(level=Level.VILLAGE) | ~Q(kind=FederationKind.TERRITORIAL)


class Child(models.Model):
    name = models.CharField(_("姓名"), max_length=50)
    sex = models.CharField(_("性别"), max_length=6, choices=Sex.choices)
    id_number = models.CharField(
        _("身份证号码"),
        max_length=18,
        unique=True,
        validators=[validate_id_number],
        help_text=_("18 位居民身份证号码,出生日期与性别须与号码一致。"),
    )
    birth_date = models.DateField(_("出生日期"))
    village = models.ForeignKey(
        "teams.Federation",
        verbose_name=_("所在村(居)"),
        on_delete=models.PROTECT,
        related_name="children_in_difficulty",
        limit_choices_to=_village_choices,
        error_messages={"invalid": _("所选单位不存在,或不是村(居)级单位、机关妇工委、妇女微家等非地区单位。")},
        help_text=_("儿童居住地所在的村(居)妇联,或机关妇工委、妇女微家等非地区单位。"),
    )
    address = models.CharField(_("居住地址"), max_length=200, blank=True)
    school = models.CharField(_("就读学校"), max_length=100, blank=True)
    grade = models.CharField(_("年级"), max_length=20, blank=True)
    categories = models.ManyToManyField(Category, verbose_name=_("困境类别"), blank=True, related_name="children")
    needs = models.ManyToManyField(Need, verbose_name=_("帮扶需求"), blank=True, related_name="children")

    risk_grade = models.CharField(_("风险等级"), max_length=6, choices=RiskGrade.choices, default=RiskGrade.GREEN)
    risk_changed_on = models.DateField(_("风险等级调整日期"), null=True, blank=True)
    risk_reason = models.CharField(_("风险等级调整原因"), max_length=200, blank=True)
    risk_changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("风险等级调整人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    status = models.CharField(_("状态"), max_length=12, choices=ChildStatus.choices, default=ChildStatus.IN_PROGRAMME)
    exit_reason = models.CharField(_("退出原因"), max_length=12, choices=ExitReason.choices, blank=True)
    exit_date = models.DateField(_("退出日期"), null=True, blank=True)
    exit_note = models.CharField(_("退出说明"), max_length=200, blank=True)

    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    objects = ChildQuerySet.as_manager()
    # What changed, when and by whom (django-simple-history); bulk paths use aixinmama.history.
    history = HistoricalRecords(verbose_name=_("儿童信息变更记录"), excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("困境儿童")
        verbose_name_plural = _("困境儿童")
        ordering = ["village__path", "name", "pk"]
        permissions = [("view_full_identity", _("可查看完整身份信息"))]
        constraints = [
            # Left <=> exit date and reason recorded; in the programme <=> neither.
            models.CheckConstraint(
                condition=(
                    Q(status=ChildStatus.LEFT, exit_date__isnull=False) & ~Q(exit_reason="")
                    | Q(status=ChildStatus.IN_PROGRAMME, exit_date__isnull=True, exit_reason="")
                ),
                name="child_left_iff_exit_date",
            ),
            models.CheckConstraint(condition=Q(status__in=ChildStatus.values), name="child_status_valid"),
        ]
        indexes = [
            # Children in the programme in a village (coverage, pairing, age-out):
            # WHERE status = 'in_programme' AND village_id = ...
            models.Index(fields=["status", "village"], name="child_status_village_idx"),
            # Duplicate warning: WHERE name = ... AND birth_date = ...
            models.Index(fields=["name", "birth_date"], name="child_name_birth_idx"),
        ]

    def __str__(self):
        return self.name

    # --- derived --------------------------------------------------------------------

    def age_on(self, day: datetime.date) -> int | None:
        return age_on(self.birth_date, day) if self.birth_date else None

    @property
    def age(self) -> int | None:
        """Age in whole years today (use `age_on(day)` for another date)."""
        return self.age_on(timezone.localdate())

    @property
    def has_consent_record(self) -> bool:
        # Annotated by ChildQuerySet.with_consent_flag() on lists; one query otherwise.
        if hasattr(self, "has_consent"):
            return self.has_consent
        return self.pk is not None and self.consents.exists()

    def needs_consent_on(self, day: datetime.date) -> bool:
        age = self.age_on(day)
        return age is not None and age < CONSENT_AGE and not self.has_consent_record

    @property
    def needs_consent(self) -> bool:
        """Under 14 today with no guardian consent on file: flag it wherever it is shown."""
        return self.needs_consent_on(timezone.localdate())

    @property
    def risk_colour(self) -> str:
        return RISK_COLOURS.get(self.risk_grade, "#777")

    # --- validation -----------------------------------------------------------------

    def clean_fields(self, exclude=None):
        # Normalise before the field checks (length, uniqueness) see the value.
        self.name = (self.name or "").strip()
        self.id_number = normalize_id_number(self.id_number)
        super().clean_fields(exclude=exclude)

    def clean(self):
        errors = {}
        if len(self.id_number or "") == 18 and self.id_number[:17].isdigit():
            # A malformed number is reported by the field validator; only compare a readable one.
            try:
                errors.update(check_id_agrees(self.id_number, birth_date=self.birth_date, sex=self.sex))
            except ValueError:
                pass  # its birth date is not a date: the field validator says so
        if self.village_id:
            village = self.village
            if village.level != Level.VILLAGE and village.kind == FederationKind.TERRITORIAL:
                errors["village"] = _("请选择村(居)级单位,或机关妇工委、妇女微家等非地区单位;%(name)s是%(level)s。") % {
                    "name": village.name,
                    "level": village.get_level_display(),
                }
        if self.status == ChildStatus.LEFT:
            if not self.exit_date:
                errors["exit_date"] = _("退出时须填写退出日期。")
            if not self.exit_reason:
                errors["exit_reason"] = _("退出时须选择退出原因。")
        else:
            if self.exit_date:
                errors["exit_date"] = _("在册儿童不填写退出日期。")
            if self.exit_reason:
                errors["exit_reason"] = _("在册儿童不填写退出原因。")
        if self.exit_date and self.birth_date and self.exit_date < self.birth_date:
            errors["exit_date"] = _("退出日期不能早于出生日期。")
        if self.birth_date and self.birth_date > timezone.localdate():
            errors["birth_date"] = _("出生日期不能晚于今天。")
        if errors:
            raise ValidationError(errors)


# --- guardians and consent -----------------------------------------------------------


class GuardianQuerySet(JurisdictionQuerySet):
    jurisdiction_field = "child__village"


class Guardian(models.Model):
    child = models.ForeignKey(Child, verbose_name=_("儿童"), on_delete=models.CASCADE, related_name="guardians")
    name = models.CharField(_("姓名"), max_length=50)
    relation = models.CharField(_("与儿童关系"), max_length=12, choices=GuardianRelation.choices)
    phone = models.CharField(_("联系电话"), max_length=20, blank=True, validators=[validate_mobile])
    lives_with_child = models.BooleanField(_("与儿童同住"), default=False)

    objects = GuardianQuerySet.as_manager()

    class Meta:
        verbose_name = _("监护人")
        verbose_name_plural = _("监护人")
        ordering = ["child", "pk"]

    def __str__(self):
        return f"{self.name}({self.get_relation_display()})"

    def clean(self):
        self.name = (self.name or "").strip()
        if self.phone:
            self.phone = normalize_mobile(self.phone)


class ConsentRecordQuerySet(JurisdictionQuerySet):
    jurisdiction_field = "child__village"


class ConsentRecord(models.Model):
    child = models.ForeignKey(Child, verbose_name=_("儿童"), on_delete=models.CASCADE, related_name="consents")
    guardian = models.ForeignKey(
        Guardian,
        verbose_name=_("同意的监护人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="consents",
    )
    given_by = models.CharField(
        _("同意人姓名"), max_length=50, blank=True, help_text=_("未选择监护人时填写同意人姓名。")
    )
    given_on = models.DateField(_("同意日期"))
    method = models.CharField(_("同意方式"), max_length=12, choices=ConsentMethod.choices)
    purpose = models.CharField(
        _("同意用途"), max_length=200, help_text=_("例如:登记个人信息并用于“爱心妈妈”结对关爱。")
    )

    objects = ConsentRecordQuerySet.as_manager()

    class Meta:
        verbose_name = _("监护人同意记录")
        verbose_name_plural = _("监护人同意记录")
        ordering = ["child", "-given_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(guardian__isnull=False) | ~Q(given_by=""), name="consent_given_by_someone"
            ),
        ]

    def __str__(self):
        return _("%(who)s于%(day)s同意") % {"who": self.given_by_name, "day": self.given_on}

    @property
    def given_by_name(self) -> str:
        return self.given_by or (self.guardian.name if self.guardian_id else "")

    def clean(self):
        errors = {}
        self.given_by = (self.given_by or "").strip()
        if self.guardian_id and not self.given_by and self.guardian.child_id == self.child_id:
            # Keep the name: the record must still say who consented if the guardian is removed.
            self.given_by = self.guardian.name
        if not self.guardian_id and not self.given_by:
            errors["given_by"] = _("请选择同意的监护人或填写同意人姓名。")
        if self.guardian_id and self.child_id and self.guardian.child_id != self.child_id:
            errors["guardian"] = _("所选监护人不是该儿童的监护人。")
        if self.given_on and self.given_on > timezone.localdate():
            errors["given_on"] = _("同意日期不能晚于今天。")
        if errors:
            raise ValidationError(errors)
