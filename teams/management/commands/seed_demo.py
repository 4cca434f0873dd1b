"""Load the demo: the Xiamen hierarchy, demo accounts, and each app's demo records.

Idempotent: running it again changes nothing and prints the same accounts.
"""

import importlib
import secrets
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction

from teams.divisions import import_divisions
from teams.models import Federation, User
from teams.roles import DISTRICT_STAFF, sync_roles

XIAMEN_FILE = Path(settings.BASE_DIR) / "data" / "xiamen-divisions.csv"
ACCOUNTS_FILE = Path(settings.BASE_DIR) / "demo-accounts.txt"
DEMO_MODULES = ["teams.demo", "children.demo", "pairing.demo"]
DISTRICT_USERNAMES = {
    "350203": "siming",
    "350205": "haicang",
    "350206": "huli",
    "350211": "jimei",
    "350212": "tongan",
    "350213": "xiangan",
}


class Command(BaseCommand):
    help = "载入演示数据:厦门市妇联组织、演示账号及各模块的演示记录(可重复运行)。"

    def handle(self, *args, **options):
        result = import_divisions(XIAMEN_FILE)
        self.stdout.write(f"妇联组织:{result.rows} 个(新增 {result.created})")
        for module_name in DEMO_MODULES:
            try:
                module = importlib.import_module(module_name)
            except ModuleNotFoundError as exc:
                if exc.name != module_name:
                    raise
                continue
            with transaction.atomic():
                module.load(out=self.stdout.write)
        accounts = self.create_accounts()
        self.stdout.write(self.style.SUCCESS("演示账号(密码保存在 demo-accounts.txt):"))
        for username, password, unit in accounts:
            self.stdout.write(f"  {username:<10} {password:<22} {unit}")

    @transaction.atomic
    def create_accounts(self):
        passwords = self.read_passwords()
        group = self.staff_group()
        city = Federation.objects.get(division_code="3502")
        wanted = [("admin", city, True)] + [
            (username, Federation.objects.get(division_code=code), False)
            for code, username in DISTRICT_USERNAMES.items()
        ]
        accounts = []
        for username, unit, is_superuser in wanted:
            password = passwords.get(username) or secrets.token_urlsafe(12)
            user = User.objects.filter(username=username).first()
            if user is None:
                user = User.objects.create_user(
                    username=username,
                    password=password,
                    federation=unit,
                    is_staff=True,
                    is_superuser=is_superuser,
                    last_name=unit.name,
                    first_name="管理员" if is_superuser else "工作人员",
                )
            if not is_superuser:
                user.groups.add(group)
            passwords[username] = password
            accounts.append((username, password, unit.name))
        ACCOUNTS_FILE.write_text("".join(f"{u}\t{p}\n" for u, p in passwords.items()), encoding="utf-8")
        return accounts

    def read_passwords(self) -> dict[str, str]:
        if not ACCOUNTS_FILE.exists():
            return {}
        pairs = (line.split("\t", 1) for line in ACCOUNTS_FILE.read_text(encoding="utf-8").splitlines() if "\t" in line)
        return {username: password for username, password in pairs}

    def staff_group(self) -> Group:
        sync_roles()
        return Group.objects.get(name=DISTRICT_STAFF)
