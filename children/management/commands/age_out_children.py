"""Daily: mark children who have turned 18 as having left the programme."""

import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from children.models import mask_name
from children.services import age_out_children


class Command(BaseCommand):
    help = _("将年满18周岁的在册儿童标记为退出(年满18周岁),可每日运行,重复运行不会重复修改。")

    def add_arguments(self, parser):
        parser.add_argument("--date", help=_("按此日期计算(YYYY-MM-DD),默认今天。"))

    def handle(self, *args, **options):
        today = None
        if options.get("date"):
            try:
                today = datetime.date.fromisoformat(options["date"])
            except ValueError:
                raise CommandError(_("日期格式应为 YYYY-MM-DD,例如 2025-01-31。")) from None
        changed = age_out_children(today=today)
        for pk, name, exit_date in changed:
            # Names are masked: this output ends up in cron mail and logs.
            self.stdout.write(
                _("  #%(pk)s %(name)s 退出日期 %(date)s") % {"pk": pk, "name": mask_name(name), "date": exit_date}
            )
        self.stdout.write(self.style.SUCCESS(_("已将 %(n)d 名年满18周岁的儿童标记为退出。") % {"n": len(changed)}))
