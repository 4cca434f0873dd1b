"""Admin of the children register: scoped to the user's jurisdiction, identities masked.

Users without `children.view_full_identity` see ID numbers as first 6 + last 4 and guardians'
phones as 3 + 4, in the list, the change form and the inlines. On the change form they may
still correct a guardian's phone: the field shows the masked value, and leaving it as shown
keeps the stored number (`MaskedFieldsForm`).
"""

from django import forms
from django.contrib import admin, messages
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from aixinmama.admin_io import ScopedImportExportMixin
from aixinmama.identity import mask_id_number, mask_phone, normalize_id_number
from teams.admin_filters import district_and_street_filters, unit_filter
from teams.admin_mixins import JurisdictionAdminMixin, ScopedChoicesMixin

from .models import CONSENT_AGE, Child, ConsentRecord, Guardian, RiskGrade
from .resources import ChildResource
from .selectors import can_view_full_identity, find_possible_duplicates
from .services import set_risk_grade

# --- forms ---------------------------------------------------------------------------


class MaskedFieldsForm(forms.ModelForm):
    """A model form that never sends the stored value of `masked_fields` to the browser.

    When `mask` is set (the user lacks the full-identity permission) an existing record's
    field is shown masked; submitting the masked value unchanged keeps the stored value,
    typing a new value replaces it (validated as usual).
    """

    masked_fields: dict = {}
    mask = False

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._originals = {}
        if self.mask and self.instance.pk:
            for name, masker in self.masked_fields.items():
                if name in self.fields:
                    original = getattr(self.instance, name)
                    self._originals[name] = original
                    self.initial[name] = masker(original) if original else original

    def clean(self):
        cleaned = super().clean()
        for name, original in self._originals.items():
            if original and cleaned.get(name) == self.masked_fields[name](original):
                cleaned[name] = original
        return cleaned


class GuardianForm(MaskedFieldsForm):
    masked_fields = {"phone": mask_phone}

    class Meta:
        model = Guardian
        fields = ["child", "name", "relation", "phone", "lives_with_child"]


class ChildForm(forms.ModelForm):
    class Meta:
        model = Child
        fields = [
            "name",
            "sex",
            "id_number",
            "birth_date",
            "village",
            "address",
            "school",
            "grade",
            "categories",
            "needs",
            "risk_grade",
            "risk_reason",
            "status",
            "exit_reason",
            "exit_date",
            "exit_note",
        ]
        widgets = {"categories": forms.CheckboxSelectMultiple, "needs": forms.CheckboxSelectMultiple}

    def clean(self):
        cleaned = super().clean()
        grade = cleaned.get("risk_grade")
        graded = "risk_grade" in self.changed_data if self.instance.pk else grade not in (None, RiskGrade.GREEN)
        if graded and not (cleaned.get("risk_reason") or "").strip():
            self.add_error("risk_reason", gettext("调整风险等级时须填写原因。"))
        return cleaned


class ConsentFormSet(forms.BaseInlineFormSet):
    def add_fields(self, form, index):
        super().add_fields(form, index)
        # Only this child's own guardians can be the consenting guardian.
        if "guardian" in form.fields:
            parent = self.instance
            form.fields["guardian"].queryset = (
                Guardian.objects.filter(child=parent) if parent.pk else Guardian.objects.none()
            )


# --- shared bits ---------------------------------------------------------------------


def badge(text, colour, text_colour="#fff"):
    return format_html(
        '<span style="background:{};color:{};padding:1px 8px;border-radius:8px;white-space:nowrap">{}</span>',
        colour,
        text_colour,
        text,
    )


def consent_warning():
    return badge(gettext("不满%(n)d周岁,未取得监护人同意") % {"n": CONSENT_AGE}, "#c62828")


class ConsentMissingFilter(admin.SimpleListFilter):
    title = _("监护人同意")
    parameter_name = "consent"

    def lookups(self, request, model_admin):
        return [("missing", _("不满14周岁且未取得同意"))]

    def queryset(self, request, queryset):
        if self.value() == "missing":
            return queryset.missing_consent(timezone.localdate())
        return queryset


# --- inlines -------------------------------------------------------------------------


class GuardianInline(ScopedChoicesMixin, admin.TabularInline):
    model = Guardian
    form = GuardianForm
    extra = 0
    fields = ["name", "relation", "phone", "lives_with_child"]

    def _view_only_masked(self, request, obj):
        return not can_view_full_identity(request.user) and not self.has_change_permission(request, obj)

    def get_fields(self, request, obj=None):
        fields = list(super().get_fields(request, obj))
        if self._view_only_masked(request, obj):
            fields = ["masked_phone" if f == "phone" else f for f in fields]
        return fields

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if self._view_only_masked(request, obj):
            readonly.append("masked_phone")
        return readonly

    def get_formset(self, request, obj=None, **kwargs):
        kwargs["form"] = type("GuardianForm", (GuardianForm,), {"mask": not can_view_full_identity(request.user)})
        return super().get_formset(request, obj, **kwargs)

    @admin.display(description=_("联系电话"))
    def masked_phone(self, guardian):
        return mask_phone(guardian.phone)


class ConsentInline(ScopedChoicesMixin, admin.TabularInline):
    model = ConsentRecord
    formset = ConsentFormSet
    extra = 0
    fields = ["guardian", "given_by", "given_on", "method", "purpose"]


# --- children ------------------------------------------------------------------------


@admin.register(Child)
class ChildAdmin(JurisdictionAdminMixin, ScopedImportExportMixin, admin.ModelAdmin):
    form = ChildForm
    audit_detail_views = True  # each view of a child's record is written to the audit log
    resource_classes = [ChildResource]
    list_display = [
        "name",
        "sex",
        "age_display",
        "masked_id_number",
        "village",
        "risk_badge",
        "status",
        "consent_badge",
    ]
    list_filter = [
        *district_and_street_filters("village"),
        unit_filter("village", "village", title=_("所在村(居)"), within_param="street_unit"),
        "categories",
        "needs",
        "risk_grade",
        "status",
        ConsentMissingFilter,
    ]
    # Names by substring; a full 18-character ID number by exact match (get_search_results).
    search_fields = ["name"]
    search_help_text = _("输入姓名,或完整的 18 位身份证号码。")
    list_select_related = ["village"]
    autocomplete_fields = ["village"]
    readonly_fields = ["risk_changed_on", "risk_changed_by", "consent_status"]
    inlines = [GuardianInline, ConsentInline]
    list_per_page = 50
    show_full_result_count = False
    fieldsets = [
        (None, {"fields": ["name", "sex", "id_number", "birth_date", "consent_status"]}),
        (_("居住与就学"), {"fields": ["village", "address", "school", "grade"]}),
        (_("困境类别与帮扶需求"), {"fields": ["categories", "needs"]}),
        (_("风险等级"), {"fields": ["risk_grade", "risk_reason", "risk_changed_on", "risk_changed_by"]}),
        (_("状态"), {"fields": ["status", "exit_reason", "exit_date", "exit_note"]}),
    ]

    # --- queryset and search ---

    def get_queryset(self, request):
        # has_consent is annotated with EXISTS: the consent column costs no query per row.
        return super().get_queryset(request).with_consent_flag()

    def get_search_results(self, request, queryset, search_term):
        term = normalize_id_number(search_term)
        if len(term) == 18 and term[:17].isdigit():
            return queryset.filter(id_number=term), False
        return super().get_search_results(request, queryset, search_term)

    # --- masking ---

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None or can_view_full_identity(request.user):
            return fieldsets
        masked = []
        for title, options in fieldsets:
            fields = ["masked_id_number" if f == "id_number" else f for f in options["fields"]]
            masked.append((title, {**options, "fields": fields}))
        return masked

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if obj is not None and not can_view_full_identity(request.user):
            readonly.append("masked_id_number")
        return readonly

    # --- columns ---

    def get_list_display(self, request):
        columns = list(super().get_list_display(request))
        if can_view_full_identity(request.user):
            columns = ["id_number" if c == "masked_id_number" else c for c in columns]
        return columns

    @admin.display(description=_("身份证号码"))
    def masked_id_number(self, child):
        return mask_id_number(child.id_number)

    @admin.display(description=_("年龄"), ordering="-birth_date")
    def age_display(self, child):
        return child.age

    @admin.display(description=_("风险等级"), ordering="risk_grade")
    def risk_badge(self, child):
        text_colour = "#000" if child.risk_grade == RiskGrade.YELLOW else "#fff"
        return badge(child.get_risk_grade_display(), child.risk_colour, text_colour)

    @admin.display(description=_("监护人同意"))
    def consent_badge(self, child):
        if child.needs_consent:
            return consent_warning()
        return format_html('<span style="color:#2e7d32">{}</span>', gettext("已同意") if child.has_consent else "—")

    @admin.display(description=_("监护人同意"))
    def consent_status(self, child):
        if child is None or child.pk is None:
            return "—"
        if child.needs_consent:
            return consent_warning()
        if child.has_consent_record:
            return gettext("已有同意记录")
        return gettext("已满14周岁,无需监护人同意")

    # --- warnings and saving ---

    def _warn_duplicates(self, request, child):
        duplicates = list(
            find_possible_duplicates(
                user=request.user, name=child.name, birth_date=child.birth_date, exclude_pk=child.pk
            )
        )
        if not duplicates:
            return
        listing = format_html_join(
            "、",
            "{}({},{})",
            ((d.name, d.village, mask_id_number(d.id_number)) for d in duplicates),
        )
        messages.warning(
            request,
            format_html(
                "{} {}",
                gettext("可能重复:本辖区已登记 %(n)d 名同名且出生日期相同的儿童,请核对:") % {"n": len(duplicates)},
                listing,
            ),
        )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if request.method == "GET":
            child = self.get_object(request, object_id)
            if child is not None:
                self._warn_duplicates(request, child)
                if child.needs_consent:
                    messages.warning(request, gettext("该儿童不满14周岁,尚无监护人同意记录,请尽快补录监护人同意。"))
        return super().change_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change):
        graded = "risk_grade" in form.changed_data or "risk_reason" in form.changed_data
        if not change:
            graded = obj.risk_grade != RiskGrade.GREEN or bool(obj.risk_reason)
        super().save_model(request, obj, form, change)
        if graded:
            set_risk_grade(child=obj, grade=obj.risk_grade, reason=obj.risk_reason, by=request.user)
        self._warn_duplicates(request, obj)


@admin.register(Guardian)
class GuardianAdmin(JurisdictionAdminMixin, admin.ModelAdmin):
    audit_detail_views = True
    form = GuardianForm
    list_display = ["name", "relation", "phone_display", "lives_with_child", "child"]
    list_select_related = ["child"]
    search_fields = ["name", "child__name"]
    autocomplete_fields = ["child"]
    fields = ["child", "name", "relation", "phone", "lives_with_child"]

    def get_fields(self, request, obj=None):
        fields = list(super().get_fields(request, obj))
        view_only = not self.has_change_permission(request, obj)
        if obj is not None and view_only and not can_view_full_identity(request.user):
            fields = ["phone_display" if f == "phone" else f for f in fields]
        return fields

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if obj is not None and not can_view_full_identity(request.user):
            readonly.append("phone_display")
        return readonly

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        return type("GuardianForm", (form,), {"mask": not can_view_full_identity(request.user)})

    def get_list_display(self, request):
        columns = list(super().get_list_display(request))
        if can_view_full_identity(request.user):
            columns = ["phone" if c == "phone_display" else c for c in columns]
        return columns

    @admin.display(description=_("联系电话"))
    def phone_display(self, guardian):
        return mask_phone(guardian.phone)
