"""Jurisdiction scoping for every admin that shows records tied to a federation unit."""

from django.http import Http404

from .selectors import visible_to


class ScopedChoicesMixin:
    """Limit foreign-key and many-to-many choices that point to scoped models (admins and inlines)."""

    def _scoped_choices(self, db_field, request, kwargs):
        if "queryset" in kwargs:
            return
        related_admin = self.admin_site._registry.get(db_field.remote_field.model)
        if isinstance(related_admin, JurisdictionAdminMixin):
            kwargs["queryset"] = related_admin.get_queryset(request)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        self._scoped_choices(db_field, request, kwargs)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        self._scoped_choices(db_field, request, kwargs)
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class JurisdictionAdminMixin(ScopedChoicesMixin):
    """Limit an admin to the signed-in user's unit and the units below it.

    The model's default manager must return a `JurisdictionQuerySet`. Everything the admin
    serves goes through `get_queryset`: the changelist, change/delete/history views (an
    object outside the jurisdiction answers 404), actions, exports and the autocomplete
    of other admins that point here. Foreign-key and many-to-many choices that point to
    other scoped models are limited the same way, so a form cannot attach a record to a
    unit, child or volunteer the user cannot see.
    """

    # Set on admins of sensitive records (children): each view of a detail page is audited.
    audit_detail_views = False

    def get_queryset(self, request):
        return visible_to(super().get_queryset(request), request.user)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        if self.audit_detail_views and request.method == "GET" and response.status_code == 200:
            from .audit import record_event
            from .models import AuditAction

            original = response.context_data.get("original") if hasattr(response, "context_data") else None
            record_event(AuditAction.VIEW, request=request, obj=original, model=self.model)
        return response

    def _get_obj_does_not_exist_redirect(self, request, opts, object_id):
        # Out of jurisdiction and non-existent look the same: not found.
        raise Http404
