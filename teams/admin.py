from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from .admin_filters import unit_filter
from .admin_mixins import JurisdictionAdminMixin
from .models import Federation, Level, User
from .selectors import sees_everything

admin.site.site_header = _("厦门市“爱心妈妈”结对关爱管理系统")
admin.site.site_title = _("爱心妈妈")
admin.site.index_title = _("管理首页")


@admin.register(Federation)
class FederationAdmin(JurisdictionAdminMixin, admin.ModelAdmin):
    list_display = ["name", "level", "kind", "division_code", "parent", "units_below"]
    list_filter = ["level", "kind", unit_filter(Level.DISTRICT, "", title=_("所在区"))]
    search_fields = ["name", "=division_code"]
    list_select_related = ["parent"]
    autocomplete_fields = ["parent"]
    readonly_fields = ["path"]
    fields = ["name", "level", "kind", "division_code", "parent", "path"]
    list_per_page = 100
    show_full_result_count = False

    def get_changelist_instance(self, request):
        changelist = super().get_changelist_instance(request)
        # One query for the "units below" column of the whole page.
        units = list(changelist.result_list)
        counts = Federation.objects.descendant_counts(units)
        for unit in units:
            unit.units_below_count = counts.get(unit.pk, 0)
        return changelist

    @admin.display(description=_("下级单位数"))
    def units_below(self, unit):
        return getattr(unit, "units_below_count", None)

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        if not sees_everything(request.user) and "parent" in form.base_fields:
            # Only a superuser may create a root unit; staff work inside their own subtree.
            form.base_fields["parent"].required = True
        return form


@admin.register(User)
class UserAdmin(JurisdictionAdminMixin, DjangoUserAdmin):
    list_display = ["username", "last_name", "first_name", "federation", "is_staff", "is_active"]
    list_filter = [
        "is_staff",
        "is_superuser",
        "is_active",
        unit_filter(Level.DISTRICT, "federation", title=_("所在区")),
    ]
    list_select_related = ["federation"]
    search_fields = ["username", "first_name", "last_name", "email", "federation__name"]
    autocomplete_fields = ["federation"]
    fieldsets = [
        *DjangoUserAdmin.fieldsets[:1],
        (_("所属单位"), {"fields": ["federation"]}),
        *DjangoUserAdmin.fieldsets[1:],
    ]
    add_fieldsets = [
        (None, {"classes": ["wide"], "fields": ["username", "federation", "password1", "password2"]}),
    ]

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if not sees_everything(request.user):
            # Staff manage accounts in their jurisdiction but cannot hand out superuser rights.
            readonly += ["is_superuser", "user_permissions"]
        return readonly

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        if not sees_everything(request.user) and "federation" in form.base_fields:
            form.base_fields["federation"].required = True
        return form


from . import admin_audit, admin_registry  # noqa: E402,F401
