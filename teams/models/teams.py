"""Teams of caring mothers, their members and the projects they run."""

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .federation import JurisdictionQuerySet


class TeamKind(models.TextChoices):
    COMMUNITY = "community", _("社区(村居)队伍")
    SPECIALTY = "specialty", _("特色队伍")


class TeamCategory(models.TextChoices):
    """The six specialty categories; also the skill areas of a volunteer."""

    VENUE = "venue", _("特色阵地")
    CULTURE = "culture", _("文化帮扶")
    FAMILY_EDUCATION = "family_education", _("家庭教育")
    COUNSELLING = "counselling", _("心理疏导")
    LEGAL_AID = "legal_aid", _("法律帮扶")
    SPECIAL_EDUCATION = "special_education", _("特殊教育")


class TeamQuerySet(JurisdictionQuerySet):
    jurisdiction_field = "federation"

    def community(self):
        return self.filter(kind=TeamKind.COMMUNITY)

    def specialty(self):
        return self.filter(kind=TeamKind.SPECIALTY)

    def with_member_count(self):
        """Annotate `member_count`: current (not left) members, in the same query."""
        return self.annotate(member_count=Count("memberships", filter=Q(memberships__left_on__isnull=True)))


class Team(models.Model):
    name = models.CharField(_("队伍名称"), max_length=100)
    kind = models.CharField(_("队伍类型"), max_length=10, choices=TeamKind.choices, default=TeamKind.COMMUNITY)
    category = models.CharField(
        _("特色类别"),
        max_length=20,
        choices=TeamCategory.choices,
        blank=True,
        help_text=_("特色队伍必须选择六类之一;社区队伍可不填。"),
    )
    federation = models.ForeignKey(
        "teams.Federation",
        verbose_name=_("所属妇联"),
        on_delete=models.PROTECT,
        related_name="teams",
        help_text=_("组建和管理这支队伍的妇联单位。"),
    )
    host_organisation = models.CharField(
        _("依托单位"), max_length=100, blank=True, help_text=_("如律师协会、图书馆、医院、企业妇女微家等。")
    )
    leader = models.ForeignKey(
        "teams.Volunteer",
        verbose_name=_("队长"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="teams_led",
    )
    founded_on = models.DateField(_("成立日期"), null=True, blank=True)
    description = models.TextField(_("简介"), blank=True)
    capacity = models.PositiveSmallIntegerField(
        _("可结对儿童数"), default=0, help_text=_("队伍作为整体(定向结对)可承担的儿童人数。")
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    objects = TeamQuerySet.as_manager()

    class Meta:
        verbose_name = _("爱心妈妈队伍")
        verbose_name_plural = _("爱心妈妈队伍")
        ordering = ["federation__path", "name"]
        constraints = [
            # A specialty team belongs to one of the six categories.
            models.CheckConstraint(
                condition=Q(kind=TeamKind.COMMUNITY) | ~Q(category=""),
                name="team_specialty_requires_category",
            ),
            models.CheckConstraint(
                condition=Q(category="") | Q(category__in=TeamCategory.values),
                name="team_category_valid",
            ),
            # Natural key for imports and demo data: a unit does not run two teams of one name.
            models.UniqueConstraint(fields=["federation", "name"], name="team_unique_name_per_unit"),
        ]
        indexes = [
            # Changelist filters "specialty teams of category X".
            models.Index(fields=["kind", "category"], name="team_kind_category_idx"),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        if self.kind == TeamKind.SPECIALTY and not self.category:
            raise ValidationError({"category": _("特色队伍必须选择特色类别。")})


class MemberRole(models.TextChoices):
    LEADER = "leader", _("队长")
    MEMBER = "member", _("队员")


class TeamMembershipQuerySet(JurisdictionQuerySet):
    jurisdiction_field = "team__federation"

    def current(self):
        return self.filter(left_on__isnull=True)


class TeamMembership(models.Model):
    team = models.ForeignKey(Team, verbose_name=_("队伍"), on_delete=models.CASCADE, related_name="memberships")
    volunteer = models.ForeignKey(
        "teams.Volunteer", verbose_name=_("爱心妈妈"), on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(_("角色"), max_length=10, choices=MemberRole.choices, default=MemberRole.MEMBER)
    joined_on = models.DateField(_("加入日期"), default=timezone.localdate)
    left_on = models.DateField(_("退出日期"), null=True, blank=True)

    objects = TeamMembershipQuerySet.as_manager()

    class Meta:
        verbose_name = _("队伍成员")
        verbose_name_plural = _("队伍成员")
        ordering = ["team", "-role", "joined_on"]
        constraints = [
            models.UniqueConstraint(
                fields=["team", "volunteer"],
                condition=Q(left_on__isnull=True),
                name="teammembership_one_active_per_volunteer",
                violation_error_message=_("该爱心妈妈已是这支队伍的在队成员。"),
            ),
            models.CheckConstraint(
                condition=Q(left_on__isnull=True) | Q(left_on__gte=models.F("joined_on")),
                name="teammembership_left_after_joined",
                violation_error_message=_("退出日期不能早于加入日期。"),
            ),
        ]

    def __str__(self):
        return f"{self.team} · {self.volunteer}"


class ProjectQuerySet(JurisdictionQuerySet):
    jurisdiction_field = "team__federation"


class Project(models.Model):
    team = models.ForeignKey(Team, verbose_name=_("承办队伍"), on_delete=models.CASCADE, related_name="projects")
    name = models.CharField(_("项目名称"), max_length=100)
    starts_on = models.DateField(_("开始日期"), null=True, blank=True)
    ends_on = models.DateField(_("结束日期"), null=True, blank=True)
    description = models.TextField(_("项目简介"), blank=True)

    objects = ProjectQuerySet.as_manager()

    class Meta:
        verbose_name = _("项目/计划")
        verbose_name_plural = _("项目/计划")
        ordering = ["team", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(starts_on__isnull=True) | Q(ends_on__isnull=True) | Q(ends_on__gte=models.F("starts_on")),
                name="project_ends_after_start",
                violation_error_message=_("结束日期不能早于开始日期。"),
            ),
            models.UniqueConstraint(fields=["team", "name"], name="project_unique_name_per_team"),
        ]

    def __str__(self):
        return self.name
