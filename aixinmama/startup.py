"""Refusing to serve without a production secret key (called by wsgi.py and asgi.py)."""

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

MISSING_KEY = "SECRET_KEY is not set. Set SECRET_KEY in the environment (or DEBUG=on for development)."


def refuse_without_secret_key() -> None:
    if settings.SECRET_KEY_MISSING:
        raise ImproperlyConfigured(MISSING_KEY)


@checks.register(checks.Tags.security, deploy=True)
def secret_key_is_set(app_configs=None, **kwargs):
    if settings.SECRET_KEY_MISSING:
        return [checks.Error(MISSING_KEY, id="aixinmama.E001")]
    return []
