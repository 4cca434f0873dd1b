"""The audit log: who signed in, saw, exported, imported, paired and granted what.

Append-only. The model refuses updates and deletes, its queryset refuses bulk ones, the
admin offers neither, and on PostgreSQL a trigger refuses them in the database itself.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AuditAction(models.TextChoices):
    SIGN_IN = "sign_in", _("登录")
    SIGN_IN_FAILED = "sign_in_failed", _("登录失败")
    SIGN_OUT = "sign_out", _("退出")
    VIEW = "view", _("查看详情")
    EXPORT = "export", _("导出")
    IMPORT = "import", _("导入")
    PAIRING_CREATED = "pairing_created", _("建立结对")
    PAIRING_ENDED = "pairing_ended", _("结束结对")
    PERMISSION_CHANGED = "permission_changed", _("权限变更")
    ROLE_CHANGED = "role_changed", _("角色变更")


class AppendOnlyError(Exception):
    pass


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("审计日志不可修改。")

    def delete(self):
        raise AppendOnlyError("审计日志不可删除。")


class AuditEvent(models.Model):
    at = models.DateTimeField(_("时间"), default=timezone.now)
    action = models.CharField(_("事件"), max_length=20, choices=AuditAction.choices)
    # PROTECT: an account that left traces is deactivated, never deleted.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    actor_username = models.CharField(_("账号"), max_length=150, blank=True)
    actor_unit = models.ForeignKey(
        "teams.Federation",
        verbose_name=_("操作人单位"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    ip_address = models.GenericIPAddressField(_("IP 地址"), null=True, blank=True)
    model_label = models.CharField(_("数据类型"), max_length=100, blank=True)
    object_id = models.CharField(_("记录编号"), max_length=64, blank=True)
    object_repr = models.CharField(_("记录"), max_length=200, blank=True)
    row_count = models.PositiveIntegerField(_("行数"), null=True, blank=True)
    details = models.JSONField(_("详情"), default=dict, blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("审计日志")
        verbose_name_plural = _("审计日志")
        ordering = ["-at", "-id"]
        indexes = [
            # The audit changelist: newest first, filtered by event.
            models.Index(fields=["-at"], name="auditevent_at_idx"),
            models.Index(fields=["action", "-at"], name="auditevent_action_at_idx"),
            # "Who looked at this child?": by record.
            models.Index(fields=["model_label", "object_id"], name="auditevent_object_idx"),
        ]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_username} {self.get_action_display()}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise AppendOnlyError("审计日志不可修改。")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("审计日志不可删除。")
