from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.utils.translation import gettext_lazy as _

from .federation import JurisdictionQuerySet


class UserQuerySet(JurisdictionQuerySet):
    jurisdiction_field = "federation"


class ScopedUserManager(UserManager.from_queryset(UserQuerySet)):
    pass


class User(AbstractUser):
    """A person who signs in: federation staff (with a unit) or a volunteer."""

    federation = models.ForeignKey(
        "teams.Federation",
        verbose_name=_("所属妇联"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="staff",
        help_text=_("工作人员只能看到本单位及下级单位的数据。"),
    )

    must_change_password = models.BooleanField(
        _("下次登录须修改密码"),
        default=False,
        help_text=_("工作人员开通账号或重置密码后,本人首次登录须先设置自己的密码。"),
    )

    objects = ScopedUserManager()

    class Meta(AbstractUser.Meta):
        verbose_name = _("用户")
        verbose_name_plural = _("用户")
        swappable = "AUTH_USER_MODEL"

    def __str__(self):
        return self.get_full_name() or self.username

    def get_full_name(self):
        # Chinese order: family name, then given name, no space.
        return f"{self.last_name}{self.first_name}".strip()
