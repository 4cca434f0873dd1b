"""Two-step sign-in (TOTP) for city administrators; optional for other staff."""

import re

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from teams.roles import CITY_ADMIN

from ..conftest import make_staff


@pytest.fixture(autouse=True)
def _two_step_on(settings):
    settings.TWO_FACTOR_FOR_CITY_ADMINS = True


def current_code(device) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():06d}"


@pytest.fixture
def city_role_user(xiamen):
    user = make_staff(xiamen, "city-role")
    user.groups.add(Group.objects.get(name=CITY_ADMIN))
    return user


@pytest.mark.django_db
def test_city_administrator_must_set_up_and_then_confirm_a_code(client, city_role_user):
    client.force_login(city_role_user)
    assert client.get(reverse("admin:index"))["Location"] == reverse("admin:otp_verify")
    assert client.get(reverse("admin:otp_verify"))["Location"] == reverse("admin:otp_setup")

    setup = client.get(reverse("admin:otp_setup"))
    assert setup.status_code == 200
    page = setup.content.decode()
    assert "<svg" in page and re.search(r"密钥:<code>[A-Z2-7 ]+</code>", page)
    device = TOTPDevice.objects.get(user=city_role_user, confirmed=False)

    wrong = client.post(
        reverse("admin:otp_setup"), {"token": "000000" if current_code(device) != "000000" else "111111"}
    )
    assert "验证码不正确" in wrong.content.decode()
    assert client.get(reverse("admin:index")).status_code == 302
    too_soon = client.post(reverse("admin:otp_setup"), {"token": current_code(device)})
    assert "尝试过于频繁" in too_soon.content.decode()  # each failure makes the next try wait
    device.refresh_from_db()
    device.throttle_reset()

    done = client.post(reverse("admin:otp_setup"), {"token": current_code(device)})
    assert done["Location"] == reverse("admin:index")
    assert client.get(reverse("admin:index")).status_code == 200
    device.refresh_from_db()
    assert device.confirmed


@pytest.mark.django_db
def test_next_sign_in_asks_for_the_code_again(client, city_role_user):
    device = TOTPDevice.objects.create(user=city_role_user, name="身份验证器", confirmed=True)
    client.force_login(city_role_user)
    assert client.get(reverse("admin:teams_federation_changelist"))["Location"] == reverse("admin:otp_verify")
    assert client.get(reverse("admin:otp_verify")).status_code == 200
    response = client.post(reverse("admin:otp_verify"), {"token": current_code(device)})
    assert response.status_code == 302
    assert client.get(reverse("admin:teams_federation_changelist")).status_code == 200


@pytest.mark.django_db
def test_superusers_count_as_city_administrators(client, city_admin):
    client.force_login(city_admin)
    assert client.get(reverse("admin:index"))["Location"] == reverse("admin:otp_verify")


@pytest.mark.django_db
def test_district_staff_may_skip_it_but_once_enabled_must_use_it(client, siming_staff):
    client.force_login(siming_staff)
    assert client.get(reverse("admin:index")).status_code == 200
    device = TOTPDevice.objects.create(user=siming_staff, name="身份验证器", confirmed=True)
    client.logout()
    client.force_login(siming_staff)  # a new session
    assert client.get(reverse("admin:index"))["Location"] == reverse("admin:otp_verify")
    client.post(reverse("admin:otp_verify"), {"token": current_code(device)})
    assert client.get(reverse("admin:index")).status_code == 200


@pytest.mark.django_db
def test_two_step_pages_need_a_signed_in_staff_member(client):
    response = client.get(reverse("admin:otp_setup"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("admin:login"))
