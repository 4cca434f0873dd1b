import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.test import RequestFactory

from children.models import Child
from pairing.models import Pairing
from teams.models import Federation, User, Volunteer
from teams.roles import DISTRICT_STAFF


@pytest.mark.django_db
def test_seed_demo_is_idempotent_and_prints_working_accounts(tmp_path, monkeypatch, capsys):
    from teams.management.commands import seed_demo

    monkeypatch.setattr(seed_demo, "ACCOUNTS_FILE", tmp_path / "demo-accounts.txt")
    call_command("seed_demo")
    first = capsys.readouterr().out
    counts = (Federation.objects.count(), Volunteer.objects.count(), Child.objects.count(), Pairing.objects.count())
    call_command("seed_demo")
    second = capsys.readouterr().out
    assert (Federation.objects.count(), Volunteer.objects.count(), Child.objects.count()) == counts[:3]
    assert Pairing.objects.count() == counts[3] and counts[3] > 0
    accounts = dict(line.split("\t") for line in (tmp_path / "demo-accounts.txt").read_text().splitlines())
    assert {"admin", "siming", "haicang", "huli", "jimei", "tongan", "xiangan"} <= set(accounts)
    for username, password in accounts.items():
        assert f"{username:<12} {password}" in first and f"{username:<12} {password}" in second
        assert authenticate(RequestFactory().post("/"), username=username, password=password) is not None, username
    siming = User.objects.get(username="siming")
    assert siming.federation.division_code == "350203"
    assert siming.groups.filter(name=DISTRICT_STAFF).exists() and not siming.is_superuser
    volunteer_user = User.objects.get(volunteer__isnull=False, username__in=list(accounts))
    assert not volunteer_user.is_staff
