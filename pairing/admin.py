"""Admin for pairings, activity logs, contact cadence and donations; the coverage and suggestion pages.

Every admin is scoped with `JurisdictionAdminMixin` (pairings by the child's village, activity
logs by the doer's unit, donations by the recording unit). Writes go through
`pairing.services`: the add/change forms call the service in `_post_clean` (inside the admin's
transaction), so a broken rule comes back as a form error in Chinese, never a 500, and the
admin then only logs the already-saved object.

Custom pages (on the Pairing admin's URLs, all scoped: a unit or child the user cannot see is 404):
- coverage/ and coverage/<unit>/ — 结对覆盖情况, drilling down city → district → street → village;
- coverage/<unit>/unpaired/ — the unit's unpaired children, each with a link to suggestions;
- coverage/<unit>/pair-community-team/ (POST) — bulk pairing of a village's unpaired children;
- suggest/<child>/ — ranked suggestions with one-click POST forms to pair.
The Donation admin adds report/ — 捐赠统计 by donor, receiving body and year.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from aixinmama.admin_io import ScopedImportExportMixin
from children.models import Child
from teams.admin_filters import district_and_street_filters
from teams.admin_mixins import JurisdictionAdminMixin
from teams.models import Federation, Level, Team, Volunteer
from teams.selectors import units_visible_to, visible_to

from .models import (
    ActivityLog,
    CadenceSetting,
    Donation,
    DonationAllocation,
    Donor,
    EndReason,
    Pairing,
    PairingStatus,
    ReviewStatus,
)
from .resources import ActivityLogResource, DonationResource, PairingResource
from .selectors import (
    coverage,
    donation_totals,
    overdue_condition,
    suggestions_for,
    unpaired_children,
    with_last_contact,
)
from .services import (
    allocate_donation,
    approve_activities,
    approve_activity,
    create_pairing,
    end_pairing,
    is_city_level,
    pair_village_with_community_team,
    record_activity,
    record_donation,
    return_activity,
    set_cadence,
    transfer_pairing,
    update_activity,
)

# --- forms that write through a service ----------------------------------------------------


class ServiceForm(forms.ModelForm):
    """A model form whose validation ends by calling a service (`perform`), which saves.

    Errors the service raises are attached to the matching form field, or shown at the top of
    the form when the field is not on it. The admin then finds `instance.pk` set and only logs.
    """

    request = None

    def perform(self, data):
        raise NotImplementedError

    def _post_clean(self):
        if self.errors:
            return
        try:
            result = self.perform(self.cleaned_data)
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                for field, errors in exc.error_dict.items():
                    target = field if field in self.fields and field != NON_FIELD_ERRORS else None
                    for error in errors:
                        self.add_error(target, error.messages if target is None else error)
            else:
                self.add_error(None, exc)
            return
        if result is not None:
            self.instance = result


class ServiceAdminMixin:
    """Pass the request to a ServiceForm; do not save again what the service saved."""

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        return type(form.__name__, (form,), {"request": request})

    def save_model(self, request, obj, form, change):
        if obj.pk is None:  # pragma: no cover - the service always saves
            raise ValueError("the service did not save the object")

    def save_related(self, request, form, formsets, change):
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)


# --- pairings ------------------------------------------------------------------------------


class PairingAddForm(ServiceForm):
    class Meta:
        model = Pairing
        fields = ["child", "volunteer", "team", "start_date", "reason"]

    def clean(self):
        cleaned = super().clean()
        if bool(cleaned.get("volunteer")) == bool(cleaned.get("team")):
            raise ValidationError(gettext("请选择一位爱心妈妈或一支队伍(二者选一)。"))
        return cleaned

    def perform(self, data):
        return create_pairing(
            child=data["child"],
            volunteer=data.get("volunteer"),
            team=data.get("team"),
            by=self.request.user,
            reason=data.get("reason", ""),
            start_date=data.get("start_date"),
        )


class PairingChangeForm(ServiceForm):
    """End an active pairing, or transfer the child to another volunteer or team."""

    end_reason = forms.ChoiceField(label=_("结束原因"), choices=[("", "---------"), *EndReason.choices], required=False)
    end_note = forms.CharField(label=_("结束说明"), max_length=200, required=False)
    transfer_volunteer = forms.ModelChoiceField(
        label=_("转给爱心妈妈"), queryset=Volunteer.objects.none(), required=False
    )
    transfer_team = forms.ModelChoiceField(label=_("转给队伍"), queryset=Team.objects.none(), required=False)
    transfer_reason = forms.CharField(
        label=_("跨区结对原因"),
        max_length=200,
        required=False,
        help_text=_("转给跨区的爱心妈妈或队伍时由市级工作人员填写。"),
    )

    class Meta:
        model = Pairing
        fields = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.request is not None:
            self.fields["transfer_volunteer"].queryset = visible_to(Volunteer.objects.eligible(), self.request.user)
            self.fields["transfer_team"].queryset = visible_to(Team.objects.all(), self.request.user)

    def perform(self, data):
        volunteer, team = data.get("transfer_volunteer"), data.get("transfer_team")
        if volunteer and team:
            raise ValidationError({"transfer_team": gettext("只能转给一位爱心妈妈或一支队伍。")})
        if volunteer or team:
            return transfer_pairing(
                pairing=self.instance,
                volunteer=volunteer,
                team=team,
                by=self.request.user,
                reason=data.get("transfer_reason", ""),
                end_reason=data.get("end_reason") or EndReason.REASSIGNED,
                note=data.get("end_note", ""),
            )
        if data.get("end_reason"):
            return end_pairing(
                pairing=self.instance, reason=data["end_reason"], by=self.request.user, note=data.get("end_note", "")
            )
        return None


class OverdueFilter(admin.SimpleListFilter):
    title = _("联系情况")
    parameter_name = "contact"

    def lookups(self, request, model_admin):
        return [("overdue", _("逾期未联系"))]

    def queryset(self, request, queryset):
        if self.value() == "overdue":
            days = CadenceSetting.objects.days_by_grade()
            return queryset.filter(status=PairingStatus.ACTIVE).filter(overdue_condition(days, timezone.localdate()))
        return queryset


@admin.register(Pairing)
class PairingAdmin(JurisdictionAdminMixin, ScopedImportExportMixin, ServiceAdminMixin, admin.ModelAdmin):
    resource_classes = [PairingResource]
    change_list_template = "admin/pairing/pairing/change_list.html"  # kept under the import/export buttons
    list_display = [
        "child",
        "village",
        "partner_display",
        "start_date",
        "status",
        "last_activity",
        "end_date",
        "end_reason",
    ]
    list_filter = ["status", OverdueFilter, *district_and_street_filters("child__village"), "end_reason"]
    list_select_related = ["child__village", "volunteer", "team"]
    search_fields = ["child__name", "volunteer__name", "team__name"]
    autocomplete_fields = ["child", "volunteer", "team"]
    list_per_page = 50
    show_full_result_count = False
    readonly_fields = [
        "child",
        "volunteer",
        "team",
        "start_date",
        "reason",
        "status",
        "end_date",
        "end_reason",
        "end_note",
        "created_by",
        "ended_by",
        "created_at",
    ]

    def get_queryset(self, request):
        return with_last_contact(super().get_queryset(request))

    def has_delete_permission(self, request, obj=None):
        return False  # pairings are never deleted: end them

    def get_form(self, request, obj=None, **kwargs):
        kwargs["form"] = PairingAddForm if obj is None else PairingChangeForm
        return super().get_form(request, obj, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.readonly_fields

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return [(None, {"fields": ["child", "volunteer", "team", "start_date", "reason"]})]
        sets = [(None, {"fields": self.readonly_fields})]
        if obj.status == PairingStatus.ACTIVE and self.has_change_permission(request, obj):
            sets.append((_("结束结对"), {"fields": ["end_reason", "end_note"]}))
            sets.append(
                (
                    _("转介(结束本结对并与新的爱心妈妈或队伍结对)"),
                    {"fields": ["transfer_volunteer", "transfer_team", "transfer_reason"]},
                )
            )
        return sets

    def response_change(self, request, obj):
        if obj.pk != int(request.resolver_match.kwargs.get("object_id", obj.pk)):
            self.message_user(request, gettext("已转介:原结对已结束,新结对已建立。"), messages.SUCCESS)
        return super().response_change(request, obj)

    @admin.display(description=_("村(居)"), ordering="child__village__path")
    def village(self, pairing):
        return pairing.child.village

    @admin.display(description=_("爱心妈妈/队伍"))
    def partner_display(self, pairing):
        return pairing.partner

    @admin.display(description=_("最近帮扶"), ordering="last_activity_on")
    def last_activity(self, pairing):
        return getattr(pairing, "last_activity_on", None) or "—"

    # --- custom pages ---

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("coverage/", wrap(self.coverage_view), name="pairing_coverage"),
            path("coverage/<int:unit_id>/", wrap(self.coverage_view), name="pairing_coverage_unit"),
            path("coverage/<int:unit_id>/unpaired/", wrap(self.unpaired_view), name="pairing_unpaired"),
            path(
                "coverage/<int:unit_id>/pair-community-team/",
                wrap(self.bulk_pair_view),
                name="pairing_bulk_pair",
            ),
            path("suggest/<int:child_id>/", wrap(self.suggest_view), name="pairing_suggest"),
            *super().get_urls(),
        ]

    def _visible_unit(self, request, unit_id):
        if unit_id is None:
            unit = request.user.federation if not request.user.is_superuser else None
            if unit is None:
                unit = Federation.objects.filter(level=Level.CITY).order_by("path").first()
            if unit is None:
                raise Http404
            return unit
        return get_object_or_404(units_visible_to(request.user), pk=unit_id)

    def coverage_view(self, request, unit_id=None):
        if not self.has_view_permission(request):
            raise PermissionDenied
        unit = self._visible_unit(request, unit_id)
        result = coverage(unit)
        own_unit = request.user.federation
        crumbs = [u for u in unit.ancestors() if request.user.is_superuser or (own_unit and u.is_within(own_unit))]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": gettext("结对覆盖情况"),
            "unit": unit,
            "coverage": result,
            "crumbs": crumbs,
            "can_bulk_pair": unit.level == Level.VILLAGE and self.has_add_permission(request),
        }
        return TemplateResponse(request, "admin/pairing/coverage.html", context)

    def unpaired_view(self, request, unit_id):
        if not self.has_view_permission(request):
            raise PermissionDenied
        unit = self._visible_unit(request, unit_id)
        page = Paginator(unpaired_children(unit), 50).get_page(request.GET.get("p"))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": gettext("%(unit)s未结对儿童") % {"unit": unit},
            "unit": unit,
            "page": page,
            "can_add": self.has_add_permission(request),
        }
        return TemplateResponse(request, "admin/pairing/unpaired.html", context)

    def bulk_pair_view(self, request, unit_id):
        if request.method != "POST":
            raise Http404
        if not self.has_add_permission(request):
            raise PermissionDenied
        village = self._visible_unit(request, unit_id)
        try:
            result = pair_village_with_community_team(village=village, by=request.user)
        except ValidationError as exc:
            self.message_user(request, " ".join(exc.messages), messages.ERROR)
        else:
            self.message_user(
                request,
                gettext("已为 %(n)d 名未结对儿童与%(team)s结对。") % {"n": result["created"], "team": result["team"]},
                messages.SUCCESS,
            )
            if result["over_capacity"]:
                self.message_user(
                    request,
                    gettext("另有 %(n)d 名儿童因队伍可结对人数已满未能结对,请调整队伍人数或另行结对。")
                    % {"n": result["over_capacity"]},
                    messages.WARNING,
                )
        return HttpResponseRedirect(reverse("admin:pairing_coverage_unit", args=[village.pk]))

    def suggest_view(self, request, child_id):
        if not self.has_view_permission(request):
            raise PermissionDenied
        child = get_object_or_404(visible_to(Child.objects.select_related("village"), request.user), pk=child_id)
        if request.method == "POST":
            if not self.has_add_permission(request):
                raise PermissionDenied
            kind, pk = request.POST.get("kind"), request.POST.get("pk", "")
            model = {"volunteer": Volunteer, "team": Team}.get(kind)
            if model is None or not pk.isdigit():
                raise Http404
            partner = get_object_or_404(model.objects.all(), pk=pk)
            try:
                create_pairing(child=child, by=request.user, **{kind: partner})
            except ValidationError as exc:
                self.message_user(request, " ".join(exc.messages), messages.ERROR)
            else:
                self.message_user(
                    request,
                    gettext("%(child)s已与%(partner)s结对。") % {"child": child, "partner": partner},
                    messages.SUCCESS,
                )
            return HttpResponseRedirect(reverse("admin:pairing_suggest", args=[child.pk]))
        current = list(Pairing.objects.active().filter(child=child).select_related("volunteer", "team"))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": gettext("为%(child)s推荐结对") % {"child": child},
            "child": child,
            "current": current,
            "suggestions": suggestions_for(child),
            "can_add": self.has_add_permission(request),
        }
        return TemplateResponse(request, "admin/pairing/suggestions.html", context)

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "coverage_url": reverse("admin:pairing_coverage")}
        return super().changelist_view(request, extra_context)


# --- activity logs -------------------------------------------------------------------------

ACTIVITY_FORM_FIELDS = [
    "volunteer",
    "team",
    "pairings",
    "is_group",
    "project",
    "date",
    "kind",
    "mode",
    "duration_minutes",
    "children_reached",
    "parents_reached",
    "place",
    "description",
]
EDITABLE_FIELDS = [f for f in ACTIVITY_FORM_FIELDS if f not in ("volunteer", "team", "pairings")]


class ActivityLogForm(ServiceForm):
    review = forms.ChoiceField(
        label=_("审核"),
        choices=[("", "---------"), ("approve", _("通过")), ("return", _("退回"))],
        required=False,
    )
    review_note = forms.CharField(label=_("审核意见"), max_length=300, required=False, widget=forms.Textarea)

    class Meta:
        model = ActivityLog
        fields = ACTIVITY_FORM_FIELDS

    def perform(self, data):
        user = self.request.user
        if self.instance.pk is None:
            return record_activity(
                by=user,
                volunteer=data.get("volunteer"),
                team=data.get("team"),
                pairings=list(data.get("pairings") or []),
                **{f: data[f] for f in EDITABLE_FIELDS if f in data},
            )
        activity = self.instance
        changed = [f for f in self.changed_data if f in EDITABLE_FIELDS or f == "pairings"]
        if changed and activity.editable_by_doer:
            activity = update_activity(
                activity=activity,
                by=user,
                pairings=list(data.get("pairings") or []),
                **{f: data[f] for f in EDITABLE_FIELDS if f in data},
            )
        decision = data.get("review")
        if decision == "approve":
            activity = approve_activity(activity=activity, by=user)
        elif decision == "return":
            activity = return_activity(activity=activity, by=user, comment=data.get("review_note", ""))
        return activity


@admin.register(ActivityLog)
class ActivityLogAdmin(JurisdictionAdminMixin, ScopedImportExportMixin, ServiceAdminMixin, admin.ModelAdmin):
    resource_classes = [ActivityLogResource]
    form = ActivityLogForm
    list_display = [
        "date",
        "kind",
        "doer_display",
        "children_display",
        "mode",
        "duration_minutes",
        "children_reached",
        "parents_reached",
        "status",
        "federation",
    ]
    list_filter = ["status", "kind", "mode", "is_group", *district_and_street_filters("federation")]
    list_select_related = ["volunteer", "team", "federation", "project"]
    search_fields = ["volunteer__name", "team__name", "place", "description", "pairings__child__name"]
    autocomplete_fields = ["volunteer", "team", "pairings", "project"]
    date_hierarchy = "date"
    list_per_page = 50
    show_full_result_count = False
    actions = ["approve_selected"]
    readonly_fields = ["status", "review_comment_display", "reviewed_by", "reviewed_at", "created_by", "federation"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .prefetch_related(
                Prefetch("pairings", queryset=Pairing.objects.select_related("child").only("pk", "child__name"))
            )
        )

    def has_delete_permission(self, request, obj=None):
        return False  # withdrawn, never deleted

    def get_fieldsets(self, request, obj=None):
        sets = [
            (_("填报人"), {"fields": ["volunteer", "team"]}),
            (_("服务对象"), {"fields": ["pairings", "is_group", "project"]}),
            (
                _("活动"),
                {
                    "fields": [
                        "date",
                        "kind",
                        "mode",
                        "duration_minutes",
                        "children_reached",
                        "parents_reached",
                        "place",
                        "description",
                    ]
                },
            ),
        ]
        if obj is not None:
            sets.append(
                (
                    _("审核"),
                    {
                        "fields": [
                            "status",
                            "review_comment_display",
                            "reviewed_by",
                            "reviewed_at",
                            "created_by",
                            "federation",
                        ]
                    },
                )
            )
            if obj.status == ReviewStatus.SUBMITTED:
                sets.append((_("审核操作"), {"fields": ["review", "review_note"]}))
        return sets

    def get_readonly_fields(self, request, obj=None):
        readonly = list(self.readonly_fields)
        if obj is not None:
            readonly += ["volunteer", "team"]
            if not obj.editable_by_doer:
                readonly += ["pairings", *EDITABLE_FIELDS]
        return readonly

    @admin.display(description=_("审核意见"))
    def review_comment_display(self, log):
        return log.review_comment or "—"

    @admin.display(description=_("爱心妈妈/队伍"))
    def doer_display(self, log):
        return log.doer

    @admin.display(description=_("服务儿童"))
    def children_display(self, log):
        names = [p.child.name for p in log.pairings.all()]
        if not names:
            return gettext("集体活动") if log.is_group else "—"
        return "、".join(names[:5]) + ("…" if len(names) > 5 else "")

    @admin.action(description=_("审核通过所选帮扶记录"), permissions=["change"])
    def approve_selected(self, request, queryset):
        result = approve_activities(queryset, by=request.user)
        self.message_user(
            request,
            gettext("已审核通过 %(approved)d 条帮扶记录,跳过 %(skipped)d 条(非待审核状态)。") % result,
            messages.SUCCESS,
        )


# --- cadence -------------------------------------------------------------------------------


class CadenceForm(ServiceForm):
    class Meta:
        model = CadenceSetting
        fields = ["days"]

    def perform(self, data):
        return set_cadence(risk_grade=self.instance.risk_grade, days=data["days"], by=self.request.user)


@admin.register(CadenceSetting)
class CadenceSettingAdmin(ServiceAdminMixin, admin.ModelAdmin):
    """Not scoped: one city-wide setting, visible to staff with the view permission, edited by city staff."""

    form = CadenceForm
    list_display = ["risk_grade", "days", "updated_at"]
    readonly_fields = ["risk_grade", "updated_at"]
    fields = ["risk_grade", "days", "updated_at"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return is_city_level(request.user) and super().has_change_permission(request, obj)


# --- donations -----------------------------------------------------------------------------


@admin.register(Donor)
class DonorAdmin(JurisdictionAdminMixin, admin.ModelAdmin):
    list_display = ["name", "kind", "unit", "federation"]
    list_filter = ["kind"]
    list_select_related = ["unit", "federation"]
    search_fields = ["name"]
    autocomplete_fields = ["unit", "federation"]


class DonationForm(ServiceForm):
    class Meta:
        model = Donation
        fields = [
            "donor",
            "date",
            "kind",
            "amount",
            "items",
            "quantity",
            "estimated_value",
            "receiving_body",
            "receiving_unit",
            "purpose",
            "receipt_number",
            "federation",
        ]

    def perform(self, data):
        if self.instance.pk is not None:
            self.instance.full_clean()
            self.instance.save()
            return self.instance
        return record_donation(donation=self.instance, by=self.request.user)

    def _post_clean(self):
        # Build the instance from the form first (ModelForm does it in _post_clean).
        if not self.errors:
            from django.forms.models import construct_instance

            self.instance = construct_instance(self, self.instance, self._meta.fields, self._meta.exclude)
        super()._post_clean()


class AllocationInline(admin.TabularInline):
    model = DonationAllocation
    fields = ["date", "child", "village", "team", "amount", "quantity", "note"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False  # allocations go through the allocation admin (total limit enforced)


@admin.register(Donation)
class DonationAdmin(JurisdictionAdminMixin, ScopedImportExportMixin, ServiceAdminMixin, admin.ModelAdmin):
    resource_classes = [DonationResource]
    change_list_template = "admin/pairing/donation/change_list.html"  # kept under the import/export buttons
    form = DonationForm
    list_display = ["date", "donor", "kind", "amount", "items_display", "receiver_display", "purpose", "receipt_number"]
    list_filter = ["kind", "donor__kind", "date"]
    list_select_related = ["donor", "receiving_unit", "federation"]
    search_fields = ["donor__name", "receiving_body", "receiving_unit__name", "receipt_number", "purpose"]
    autocomplete_fields = ["donor", "receiving_unit", "federation"]
    date_hierarchy = "date"
    inlines = [AllocationInline]

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("物资/服务"))
    def items_display(self, donation):
        if not donation.items:
            return "—"
        return f"{donation.items} × {donation.quantity}" if donation.quantity else donation.items

    @admin.display(description=_("受赠方"))
    def receiver_display(self, donation):
        return donation.receiver

    def get_urls(self):
        return [
            path("report/", self.admin_site.admin_view(self.report_view), name="pairing_donation_report"),
            *super().get_urls(),
        ]

    def report_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        totals = donation_totals(self.get_queryset(request))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": gettext("捐赠统计"),
            "totals": totals,
        }
        return TemplateResponse(request, "admin/pairing/donation_report.html", context)

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "report_url": reverse("admin:pairing_donation_report")}
        return super().changelist_view(request, extra_context)


class AllocationForm(ServiceForm):
    class Meta:
        model = DonationAllocation
        fields = ["donation", "date", "child", "village", "team", "amount", "quantity", "note"]

    def perform(self, data):
        if self.instance.pk is not None:
            raise ValidationError(gettext("分配记录登记后不能修改。"))
        return allocate_donation(
            donation=data["donation"],
            by=self.request.user,
            child=data.get("child"),
            village=data.get("village"),
            team=data.get("team"),
            amount=data.get("amount"),
            quantity=data.get("quantity"),
            date=data.get("date"),
            note=data.get("note", ""),
        )


@admin.register(DonationAllocation)
class DonationAllocationAdmin(JurisdictionAdminMixin, ServiceAdminMixin, admin.ModelAdmin):
    form = AllocationForm
    list_display = ["donation", "date", "recipient_display", "amount", "quantity", "note"]
    list_select_related = ["donation__donor", "child", "village", "team"]
    autocomplete_fields = ["donation", "child", "village", "team"]
    search_fields = ["donation__donor__name", "child__name", "village__name", "team__name"]

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("分配对象"))
    def recipient_display(self, allocation):
        return allocation.recipient


# --- on the children changelist ------------------------------------------------------------


@admin.action(description=_("将所选儿童所在村(居)的未结对儿童与社区队伍结对"))
def pair_villages_with_community_teams(modeladmin, request, queryset):
    """For each village of the selected (visible) children, pair its unpaired children with its community team."""
    if not request.user.has_perm("pairing.add_pairing"):
        modeladmin.message_user(request, gettext("您没有建立结对的权限。"), messages.ERROR)
        return
    village_ids = set(queryset.values_list("village_id", flat=True))
    for village in Federation.objects.filter(pk__in=village_ids).order_by("path"):
        try:
            result = pair_village_with_community_team(village=village, by=request.user)
        except ValidationError as exc:
            modeladmin.message_user(request, " ".join(exc.messages), messages.WARNING)
            continue
        text = gettext("%(village)s:%(n)d 名未结对儿童已与%(team)s结对。") % {
            "village": village,
            "n": result["created"],
            "team": result["team"],
        }
        if result["over_capacity"]:
            text += gettext("另有 %(n)d 名因队伍名额已满未结对。") % {"n": result["over_capacity"]}
        modeladmin.message_user(request, text, messages.SUCCESS)


# The child admin belongs to the children app; the pairing action is added to it from here
# (apps load in INSTALLED_APPS order, children before pairing), so children/admin.py is unchanged.
if admin.site.is_registered(Child):
    _child_admin = admin.site.get_model_admin(Child)
    _child_admin.actions = [*(_child_admin.actions or []), pair_villages_with_community_teams]
