from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TeamsConfig(AppConfig):
    name = "teams"
    verbose_name = _("妇联组织与爱心妈妈队伍")

    def ready(self):
        from . import signals  # noqa: F401  (audit events)
