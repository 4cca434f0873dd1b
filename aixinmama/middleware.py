from django.conf import settings
from django.utils import translation


class IdleSessionExpiryMiddleware:
    """End a session after a period without requests: shorter for staff, who see whole
    jurisdictions, than for volunteers signing in on their own phones. Every request
    slides the deadline (SESSION_SAVE_EVERY_REQUEST)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and hasattr(request, "session"):
            minutes = settings.STAFF_SESSION_IDLE_MINUTES if user.is_staff else settings.VOLUNTEER_SESSION_IDLE_MINUTES
            request.session.set_expiry(minutes * 60)
        return response


class DefaultLanguageMiddleware:
    """Chinese unless the person chose otherwise.

    Django's LocaleMiddleware would follow the browser's Accept-Language, so a phone or an
    office computer set to English would show an English admin. Here the language is the one
    chosen on the site (the language cookie, set by /i18n/setlang/) or LANGUAGE_CODE.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.available = {code for code, _name in settings.LANGUAGES}

    def __call__(self, request):
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        language = chosen if chosen in self.available else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        translation.deactivate()
        return response
