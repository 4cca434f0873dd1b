"""The admin site: Django's, plus two-step sign-in (TOTP, django-otp).

City administrators must confirm each sign-in with a code from an authenticator app when
TWO_FACTOR_FOR_CITY_ADMINS is on (the default in production). Other staff may switch it on
for themselves; once they have a confirmed device, they are asked for codes too.
"""

import base64
import io

import qrcode
import qrcode.image.svg
from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.safestring import mark_safe
from django_otp import login as otp_login
from django_otp import user_has_device
from django_otp.plugins.otp_totp.models import TOTPDevice


def is_city_admin(user) -> bool:
    from teams.roles import CITY_ADMIN

    return bool(user.is_superuser or user.groups.filter(name=CITY_ADMIN).exists())


SESSION_NOT_NEEDED = "_two_step_not_needed"


def needs_second_step(request) -> bool:
    """Signed-in staff who must still confirm this session with a code.

    The answer "not needed" is remembered in the session, so pages do not pay a query for it
    on every request (a staff member who turns it on is verified in the same step)."""
    user = request.user
    if not (user.is_authenticated and user.is_staff) or user.is_verified():
        return False
    if request.session.get(SESSION_NOT_NEEDED) == user.pk:
        return False
    needed = second_step_required(user)
    if not needed:
        request.session[SESSION_NOT_NEEDED] = user.pk
    return needed


def second_step_required(user) -> bool:
    return user_has_device(user) or (settings.TWO_FACTOR_FOR_CITY_ADMINS and is_city_admin(user))


def remember_at_sign_in(sender, request, user, **kwargs):
    """Decide at sign-in, once, whether this session needs a code (pages then read the session)."""
    if request is not None and hasattr(request, "session") and user.is_staff and not second_step_required(user):
        request.session[SESSION_NOT_NEEDED] = user.pk


class TokenForm(forms.Form):
    token = forms.CharField(
        label="验证码",
        min_length=6,
        max_length=6,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}),
        help_text="打开手机上的身份验证器(如“腾讯身份验证器”、Google Authenticator),输入当前显示的 6 位数字。",
    )


class AixinmamaAdminSite(admin.AdminSite):
    def admin_view(self, view, cacheable=False):
        inner = super().admin_view(view, cacheable)

        def guarded(request, *args, **kwargs):
            if needs_second_step(request):
                return redirect("admin:otp_verify")
            return inner(request, *args, **kwargs)

        guarded.__wrapped__ = view
        return guarded

    def get_urls(self):
        own = [
            path("two-step/", self._staff_only(self.otp_verify), name="otp_verify"),
            path("two-step/setup/", self._staff_only(self.otp_setup), name="otp_setup"),
        ]
        return own + super().get_urls()

    def _staff_only(self, view):
        def wrapped(request, *args, **kwargs):
            if not (request.user.is_authenticated and request.user.is_active and request.user.is_staff):
                return redirect(f"{reverse('admin:login')}?next={request.path}")
            return view(request, *args, **kwargs)

        return wrapped

    def each_context(self, request):
        context = super().each_context(request)
        context["two_step_on"] = bool(getattr(request.user, "is_verified", lambda: False)())
        return context

    def otp_verify(self, request):
        """Ask for the current code; staff without a device are sent to set one up."""
        if not user_has_device(request.user):
            return redirect("admin:otp_setup")
        form = TokenForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            for device in TOTPDevice.objects.devices_for_user(request.user, confirmed=True):
                if device.verify_token(form.cleaned_data["token"]):
                    otp_login(request, device)
                    return redirect(request.GET.get("next") or "admin:index")
            form.add_error("token", "验证码不正确或已过期,请输入身份验证器上当前的 6 位数字。")
        return self._render(request, "admin/two_step_verify.html", {"form": form, "title": "两步验证"})

    def otp_setup(self, request):
        """Show a new authenticator key (QR code and text) and confirm it with a first code."""
        device = TOTPDevice.objects.filter(user=request.user, confirmed=False).first()
        if device is None:
            device = TOTPDevice.objects.create(user=request.user, name="身份验证器", confirmed=False)
        form = TokenForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            allowed, _why = device.verify_is_allowed()
            if not allowed:
                form.add_error("token", "尝试过于频繁,请稍等几秒后再输入。")
            elif device.verify_token(form.cleaned_data["token"]):
                device.confirmed = True
                device.save(update_fields=["confirmed"])
                otp_login(request, device)
                messages.success(request, "两步验证已启用:以后每次登录都需要输入身份验证器上的验证码。")
                return redirect("admin:index")
            else:
                form.add_error("token", "验证码不正确,请确认手机时间准确后重试。")
        secret = base64.b32encode(device.bin_key).decode()
        image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
        buffer = io.BytesIO()
        image.save(buffer)
        context = {
            "form": form,
            "title": "启用两步验证",
            "secret": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
            "qr_svg": mark_safe(buffer.getvalue().decode()),  # noqa: S308 - SVG made here from our own key
        }
        return self._render(request, "admin/two_step_setup.html", context)

    def _render(self, request, template, context):
        return TemplateResponse(request, template, {**self.each_context(request), **context})
