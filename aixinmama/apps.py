from django.contrib.admin.apps import AdminConfig as DjangoAdminConfig


class AdminConfig(DjangoAdminConfig):
    """Django's admin, with our site class (two-step sign-in for city administrators)."""

    default_site = "aixinmama.admin_site.AixinmamaAdminSite"

    def ready(self):
        super().ready()
        from django.contrib.auth.signals import user_logged_in

        from . import startup  # noqa: F401  (registers the deploy check for SECRET_KEY)
        from .admin_site import remember_at_sign_in

        user_logged_in.connect(remember_at_sign_in, dispatch_uid="aixinmama_two_step_at_sign_in")
