"""The audit log in the admin: read-only for everyone, visible to city administrators only
(the `teams.view_auditevent` permission), exportable by them (and that export is audited)."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from import_export import fields, resources
from import_export.admin import ExportMixin

from aixinmama.resources import EXPORT_FORMATS, neutralise_formula

from .audit import record_event
from .models import AuditAction, AuditEvent


class AuditEventResource(resources.ModelResource):
    at = fields.Field(attribute="at", column_name="时间")
    action = fields.Field(attribute="get_action_display", column_name="事件")
    actor_username = fields.Field(attribute="actor_username", column_name="账号")
    actor_unit = fields.Field(attribute="actor_unit__name", column_name="操作人单位")
    ip_address = fields.Field(attribute="ip_address", column_name="IP 地址")
    model_label = fields.Field(attribute="model_label", column_name="数据类型")
    object_id = fields.Field(attribute="object_id", column_name="记录编号")
    object_repr = fields.Field(attribute="object_repr", column_name="记录")
    row_count = fields.Field(attribute="row_count", column_name="行数")
    details = fields.Field(attribute="details", column_name="详情")

    class Meta:
        model = AuditEvent
        fields = ["at", "action", "actor_username", "actor_unit", "ip_address", "model_label", "object_id"]
        fields += ["object_repr", "row_count", "details"]

    def export_field(self, field, instance, **kwargs):
        return neutralise_formula(super().export_field(field, instance, **kwargs))


@admin.register(AuditEvent)
class AuditEventAdmin(ExportMixin, admin.ModelAdmin):
    resource_classes = [AuditEventResource]
    export_formats = EXPORT_FORMATS
    list_display = ["at", "action", "actor_username", "actor_unit", "model_label", "object_repr", "row_count"]
    list_display += ["ip_address"]
    list_filter = ["action", "model_label", ("at", admin.DateFieldListFilter)]
    search_fields = ["actor_username", "object_repr", "=object_id", "=ip_address"]
    list_select_related = ["actor_unit"]
    date_hierarchy = "at"
    show_full_result_count = False
    readonly_fields = [f.name for f in AuditEvent._meta.fields]

    def get_export_formats(self):
        return list(self.export_formats)

    def has_view_permission(self, request, obj=None):
        # Only the view permission counts (Django would also accept "change").
        return request.user.has_perm("teams.view_auditevent")

    def has_module_permission(self, request):
        return self.has_view_permission(request)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_export_permission(self, request):
        return request.user.has_perm("teams.view_auditevent")

    def get_data_for_export(self, request, queryset, **kwargs):
        data = super().get_data_for_export(request, queryset, **kwargs)
        record_event(
            AuditAction.EXPORT,
            request=request,
            model=AuditEvent,
            row_count=len(data),
            filters=_filters(request),
        )
        return data


def _filters(request) -> dict:
    ignored = {"csrfmiddlewaretoken", "format", "resource", "export_items"}
    return {key: request.GET.getlist(key) for key in request.GET if key not in ignored}


AuditEventAdmin.actions = []
AuditEventAdmin.verbose_name = _("审计日志")
