import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aixinmama.settings")
application = get_asgi_application()

from aixinmama.startup import refuse_without_secret_key  # noqa: E402  (needs the settings loaded)

refuse_without_secret_key()
