"""Honours: plaques (授牌), flags (授旗) and titles awarded by a federation unit."""

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .federation import JurisdictionQuerySet


class HonourKind(models.TextChoices):
    PLAQUE = "plaque", _("授牌")
    FLAG = "flag", _("授旗")
    TITLE = "title", _("称号")


class HonourQuerySet(JurisdictionQuerySet):
    # Scoped by the awarding unit: the honour is that unit's decision and its record (it keeps
    # the batch, the date, the list of recipients). Recipients always lie within the awarding
    # unit (see Honour.clean), so a district sees every honour it awarded; a district does not
    # see the city's award list, which it did not decide, even where it is the recipient.
    jurisdiction_field = "awarding_unit"


class Honour(models.Model):
    kind = models.CharField(_("类型"), max_length=10, choices=HonourKind.choices)
    name = models.CharField(_("名称"), max_length=100, help_text=_("如“鹭岛爱心妈妈+”。"))
    batch = models.CharField(_("批次"), max_length=50, blank=True, help_text=_("如“首批”。"))
    awarded_on = models.DateField(_("授予日期"))
    awarding_unit = models.ForeignKey(
        "teams.Federation", verbose_name=_("授予单位"), on_delete=models.PROTECT, related_name="honours_awarded"
    )
    recipient_unit = models.ForeignKey(
        "teams.Federation",
        verbose_name=_("获授妇联组织"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="honours_received",
    )
    recipient_team = models.ForeignKey(
        "teams.Team",
        verbose_name=_("获授队伍"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="honours",
    )
    recipient_volunteer = models.ForeignKey(
        "teams.Volunteer",
        verbose_name=_("获授爱心妈妈"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="honours",
    )

    objects = HonourQuerySet.as_manager()

    class Meta:
        verbose_name = _("荣誉(授牌/授旗)")
        verbose_name_plural = _("荣誉(授牌/授旗)")
        ordering = ["-awarded_on", "name"]
        constraints = [
            # Exactly one recipient: a federation unit, a team or a volunteer.
            models.CheckConstraint(
                condition=(
                    Q(recipient_unit__isnull=False, recipient_team__isnull=True, recipient_volunteer__isnull=True)
                    | Q(recipient_unit__isnull=True, recipient_team__isnull=False, recipient_volunteer__isnull=True)
                    | Q(recipient_unit__isnull=True, recipient_team__isnull=True, recipient_volunteer__isnull=False)
                ),
                name="honour_exactly_one_recipient",
                violation_error_message=_("获授对象只能是一个妇联组织、一支队伍或一位爱心妈妈,且必须填写其一。"),
            ),
        ]

    def __str__(self):
        return f"{self.name}{self.batch and f'({self.batch})'} → {self.recipient}"

    @property
    def recipient(self):
        return self.recipient_unit or self.recipient_team or self.recipient_volunteer

    def recipient_federation(self):
        if self.recipient_unit_id:
            return self.recipient_unit
        if self.recipient_team_id:
            return self.recipient_team.federation
        if self.recipient_volunteer_id:
            return self.recipient_volunteer.federation
        return None

    def clean(self):
        filled = sum(
            x is not None for x in (self.recipient_unit_id, self.recipient_team_id, self.recipient_volunteer_id)
        )
        if filled != 1:
            raise ValidationError(_("获授对象只能是一个妇联组织、一支队伍或一位爱心妈妈,且必须填写其一。"))
        unit = self.recipient_federation()
        if self.awarding_unit_id and unit is not None and not unit.is_within(self.awarding_unit):
            raise ValidationError(_("获授对象应在授予单位的管辖范围内。"))
