from django.core.management.base import BaseCommand

from teams.roles import ROLES, sync_roles


class Command(BaseCommand):
    help = "按 teams/roles.py 的定义创建角色(用户组)并设置其权限(新增模型后重新运行)。"

    def handle(self, *args, **options):
        for role, count in sync_roles().items():
            self.stdout.write(f"{role}:{count} 项权限 — {ROLES[role]['description']}")
