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
        volunteer_account = self.create_volunteer_account()
        self.stdout.write(self.style.SUCCESS("演示账号(密码保存在 demo-accounts.txt):"))
        self.stdout.write("  管理后台 http://127.0.0.1:8000/admin/")
        for username, password, unit in accounts:
            self.stdout.write(f"  {username:<12} {password:<22} {unit}")
        if volunteer_account:
            username, password, name = volunteer_account
            self.stdout.write("  爱心妈妈手机页面 http://127.0.0.1:8000/ (用手机号码登录)")
            self.stdout.write(f"  {username:<12} {password:<22} {name}")

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

    @transaction.atomic
    def create_volunteer_account(self):
        """A sign-in for one demo volunteer of 思明区 who has children to look after."""
        from pairing.models import Pairing
        from teams.models import Volunteer
        from teams.services import create_volunteer_account, reset_volunteer_password

        siming = Federation.objects.get(division_code="350203")
        pairing = (
            Pairing.objects.active()
            .filter(volunteer__isnull=False, volunteer__federation__path__startswith=siming.path)
            .order_by("pk")
            .select_related("volunteer")
            .first()
        )
        if pairing is None:
            return None
        volunteer = Volunteer.objects.get(pk=pairing.volunteer_id)
        passwords = self.read_passwords()
        if volunteer.user_id is None:
            user, password = create_volunteer_account(volunteer=volunteer, by=None)
        elif volunteer.user.username in passwords:
            user, password = volunteer.user, passwords[volunteer.user.username]
        else:
            user, password = volunteer.user, reset_volunteer_password(volunteer=volunteer, by=None)
        passwords[user.username] = password
        ACCOUNTS_FILE.write_text("".join(f"{u}\t{p}\n" for u, p in passwords.items()), encoding="utf-8")
        return user.username, password, volunteer.name

    def read_passwords(self) -> dict[str, str]:
        if not ACCOUNTS_FILE.exists():
            return {}
        pairs = (line.split("\t", 1) for line in ACCOUNTS_FILE.read_text(encoding="utf-8").splitlines() if "\t" in line)
        return {username: password for username, password in pairs}

    def staff_group(self) -> Group:
        sync_roles()
        return Group.objects.get(name=DISTRICT_STAFF)
