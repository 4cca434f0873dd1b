import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aixinmama.settings")
application = get_wsgi_application()

from aixinmama.startup import refuse_without_secret_key  # noqa: E402  (needs the settings loaded)

refuse_without_secret_key()
