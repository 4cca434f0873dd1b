"""Signing in with a username or, for volunteers, the mobile number on their record."""

from django.contrib.auth.backends import ModelBackend

from aixinmama.identity import normalize_mobile

from .models import User


class MobileOrUsernameBackend(ModelBackend):
    """A username first; otherwise a mobile number that belongs to exactly one volunteer
    with an account. Failures look the same whichever way they fail."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is not None or not username or password is None:
            return user
        mobile = normalize_mobile(username)
        if not (len(mobile) == 11 and mobile.isdigit()):
            return None
        candidates = list(User.objects.filter(volunteer__mobile=mobile)[:2])
        if len(candidates) != 1:
            User().set_password(password)  # same cost as a real check, so timing reveals nothing
            return None
        user = candidates[0]
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None
