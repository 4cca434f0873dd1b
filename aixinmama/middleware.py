from django.conf import settings


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
