"""Import and export in the admin: scoped to the user's jurisdiction, errors by row and column."""

from django.contrib import messages
from import_export.admin import ImportExportMixin

from teams.audit import record_event
from teams.models import AuditAction

from .resources import EXPORT_FORMATS, IMPORT_FORMATS, SheetFileError

MAX_LISTED_ERRORS = 200


class ScopedImportExportMixin(ImportExportMixin):
    """django-import-export in a jurisdiction-scoped admin.

    Put it after `JurisdictionAdminMixin` in the bases. Resources receive `user=request.user`,
    so units and existing records are resolved only within the user's jurisdiction, exports
    are taken from the scoped changelist and masked unless the user holds the resource's
    full-identity permission. A sheet with any error is not imported at all: the dry run lists
    every error with its sheet row and column, and the confirm step is not offered.
    """

    import_formats = IMPORT_FORMATS
    export_formats = EXPORT_FORMATS

    def get_import_formats(self):
        return list(self.import_formats)

    def get_export_formats(self):
        return list(self.export_formats)

    def get_import_resource_kwargs(self, request, **kwargs):
        return {"user": request.user}

    def get_export_resource_kwargs(self, request, **kwargs):
        return {"user": request.user}

    def get_import_data_kwargs(self, request, **kwargs):
        data_kwargs = super().get_import_data_kwargs(request=request, **kwargs)
        data_kwargs["rollback_on_validation_errors"] = True
        return data_kwargs

    def add_data_read_fail_error_to_form(self, form, e):
        # A file that cannot be read as a table gets the base's Chinese explanation
        # (encoding, merged or blank headers), not the library's generic message.
        if isinstance(e, SheetFileError):
            form.add_error("import_file", str(e))
        else:
            super().add_data_read_fail_error_to_form(form, e)

    def get_data_for_export(self, request, queryset, **kwargs):
        data = super().get_data_for_export(request, queryset, **kwargs)
        ignored = {"csrfmiddlewaretoken", "format", "resource", "export_items"}
        record_event(
            AuditAction.EXPORT,
            request=request,
            model=self.model,
            row_count=len(data),
            filters={key: request.GET.getlist(key) for key in request.GET if key not in ignored},
            selected=len(request.POST.getlist("export_items")) or None,
        )
        return data

    def process_dataset(self, dataset, form, request, **kwargs):
        file_name = kwargs.get("file_name") or form.cleaned_data.get("original_file_name") or ""
        result = super().process_dataset(dataset, form, request, **kwargs)
        if not (result.has_errors() or result.has_validation_errors()):
            record_event(
                AuditAction.IMPORT,
                request=request,
                model=self.model,
                row_count=len(dataset),
                file_name=file_name,
                created=result.totals.get("new", 0),
                updated=result.totals.get("update", 0),
            )
        return result

    def import_action(self, request, **kwargs):
        response = super().import_action(request, **kwargs)
        context = getattr(response, "context_data", None) or {}
        result = context.get("result")
        if result is not None and (result.has_errors() or result.has_validation_errors()):
            errors = getattr(result, "sheet_errors", None) or []
            messages.error(request, f"表格有 {len(errors)} 处错误,未导入任何数据。请修改后重新上传。")
            for error in errors[:MAX_LISTED_ERRORS]:
                messages.error(request, str(error))
            if len(errors) > MAX_LISTED_ERRORS:
                messages.error(request, f"另有 {len(errors) - MAX_LISTED_ERRORS} 处错误未列出。")
        return response
