"""Sign-in protection, session expiry and production settings."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

from teams.models import User

ROOT = Path(__file__).resolve().parent.parent.parent


@pytest.fixture
def staff(db):
    return User.objects.create_user(username="wang", password="a-good-long-password-1", is_staff=True)


def admin_login(client, username, password):
    return client.post(
        reverse("admin:login"), {"username": username, "password": password, "next": "/admin/"}, REMOTE_ADDR="10.0.0.1"
    )


@pytest.mark.django_db
def test_account_is_locked_after_repeated_failures(client, staff, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = admin_login(client, "wang", "wrong")
        assert response.status_code == 200  # the form again, with the usual error
    assert admin_login(client, "wang", "wrong").status_code == 429  # the limit is reached
    locked = admin_login(client, "wang", "a-good-long-password-1")
    assert locked.status_code == 429
    assert "登录失败次数过多" in locked.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_one_failure_less_than_the_limit_still_signs_in(client, staff, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        admin_login(client, "wang", "wrong")
    response = admin_login(client, "wang", "a-good-long-password-1")
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(staff.pk)


@pytest.mark.django_db
def test_address_is_locked_whatever_the_account(client, staff, settings):
    for number in range(settings.AXES_FAILURE_LIMIT):
        admin_login(client, f"nobody{number}", "wrong")
    assert admin_login(client, "wang", "a-good-long-password-1").status_code == 429


@pytest.mark.django_db
def test_staff_session_expires_after_idle_minutes(client, staff, settings):
    client.force_login(staff)
    client.get(reverse("admin:index"))
    assert client.session.get_expiry_age() == settings.STAFF_SESSION_IDLE_MINUTES * 60


@pytest.mark.django_db
def test_volunteer_session_gets_the_longer_idle_time(client, db, settings):
    volunteer = User.objects.create_user(username="13800000000", password="a-good-long-password-1")
    client.force_login(volunteer)
    client.get("/admin/")  # any request refreshes the expiry
    assert client.session.get_expiry_age() == settings.VOLUNTEER_SESSION_IDLE_MINUTES * 60


def test_password_validators_are_on(settings):
    names = [v["NAME"].rsplit(".", 1)[-1] for v in settings.AUTH_PASSWORD_VALIDATORS]
    assert {"MinimumLengthValidator", "CommonPasswordValidator", "NumericPasswordValidator"} <= set(names)


def _manage(*args, **env):
    return _run([sys.executable, str(ROOT / "manage.py"), *args], **env)


def _run(command, **env):
    # Only what production sets: not the test run's own variables (the browser tests set
    # DJANGO_ALLOW_ASYNC_UNSAFE for Playwright, which check --deploy rightly warns about).
    unset = {"DEBUG", "SECRET_KEY", "SECURE_SSL_REDIRECT", "DJANGO_ALLOW_ASYNC_UNSAFE", "TWO_FACTOR_FOR_CITY_ADMINS"}
    clean = {k: v for k, v in os.environ.items() if k not in unset}
    clean.pop("STATIC_STORAGE", None)
    return subprocess.run(
        command,
        env={**clean, "DJANGO_SETTINGS_MODULE": "aixinmama.settings", **env},
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )


def test_check_deploy_is_clean_with_production_settings():
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="off",
        SECRET_KEY="x7-production-like-secret-key-with-plenty-of-entropy-0123456789abcdef",
        ALLOWED_HOSTS="aixinmama.example.org",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_secret_key():
    env = {"DEBUG": "off", "ALLOWED_HOSTS": "aixinmama.example.org"}
    serve = _run([sys.executable, "-c", "import aixinmama.wsgi"], **env)
    assert serve.returncode != 0
    assert "SECRET_KEY is not set" in serve.stderr
    deploy = _manage("check", "--deploy", **env)
    assert deploy.returncode != 0
    assert "SECRET_KEY is not set" in deploy.stderr


def test_commands_that_serve_nothing_run_without_a_secret_key():
    result = _manage("makemigrations", "--check", "--dry-run", DEBUG="off")
    assert result.returncode == 0, result.stderr
    assert "No changes detected" in result.stdout


@pytest.mark.django_db
def test_responses_carry_security_headers(client):
    response = client.get(reverse("admin:login"))
    assert response["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.django_db
def test_an_idle_staff_session_is_signed_out(client, staff, settings):
    import datetime

    from django.contrib.sessions.models import Session
    from django.utils import timezone

    client.force_login(staff)
    assert client.get(reverse("admin:index")).status_code == 200
    # The same session, found again after the idle limit has passed.
    key = client.session.session_key
    idle = timezone.now() - datetime.timedelta(minutes=1)
    Session.objects.filter(session_key=key).update(expire_date=idle)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("admin:login"))
