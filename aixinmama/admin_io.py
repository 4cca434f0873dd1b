"""Import and export in the admin: scoped to the user's jurisdiction, errors by row and column."""

from django.contrib import messages
from import_export.admin import ImportExportMixin

from .resources import EXPORT_FORMATS, IMPORT_FORMATS

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
