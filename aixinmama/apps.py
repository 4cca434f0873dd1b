from django.contrib.admin.apps import AdminConfig as DjangoAdminConfig


class AdminConfig(DjangoAdminConfig):
    """Django's admin, with our site class (two-step sign-in for city administrators)."""

    default_site = "aixinmama.admin_site.AixinmamaAdminSite"
