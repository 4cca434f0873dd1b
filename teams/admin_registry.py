"""Admin for volunteers, teams, projects and honours (imported at the bottom of teams/admin.py)."""

import datetime

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from aixinmama.admin_io import ScopedImportExportMixin
from aixinmama.identity import mask_id_number, normalize_mobile

from .admin_filters import district_and_street_filters
from .admin_mixins import JurisdictionAdminMixin, ScopedChoicesMixin
from .models import (
    Honour,
    Project,
    SafeguardingCheck,
    Team,
    TeamMembership,
    Volunteer,
    VolunteerStatus,
    VolunteerStatusChange,
)
from .resources import TeamMembershipResource, TeamResource, VolunteerResource
from .services import (
    approve_applicants,
    change_volunteer_status,
    create_volunteer_account,
    record_safeguarding_check,
    register_volunteer,
    reset_volunteer_password,
)

FULL_IDENTITY_PERMISSION = "teams.view_full_identity"
EXPIRY_WARNING_DAYS = 30


def can_view_full_identity(request) -> bool:
    return request.user.has_perm(FULL_IDENTITY_PERMISSION)


class SafeguardingCheckStatusFilter(admin.SimpleListFilter):
    title = _("无犯罪记录查询")
    parameter_name = "check"

    def lookups(self, request, model_admin):
        return [
            ("expiring", _("%(n)d 天内到期") % {"n": EXPIRY_WARNING_DAYS}),
            ("expired", _("已过期")),
            ("none", _("无有效记录")),
        ]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "expiring":
            return queryset.check_expiring(within_days=EXPIRY_WARNING_DAYS)
        if value == "expired":
            return queryset.check_expired()
        if value == "none":
            return queryset.without_check()
        return queryset


class SafeguardingCheckInline(ScopedChoicesMixin, admin.TabularInline):
    """Checks are filed, never edited: earlier rows are read-only, a new row adds a check."""

    model = SafeguardingCheck
    fields = ["checked_on", "authority", "result", "valid_until", "note", "checked_by"]
    readonly_fields = ["checked_by"]
    extra = 0
    can_delete = False
    verbose_name = _("无犯罪记录查询")
    verbose_name_plural = _("无犯罪记录查询(已录入的记录不可修改)")

    def has_change_permission(self, request, obj=None):
        return False


class StatusHistoryInline(admin.TabularInline):
    model = VolunteerStatusChange
    fields = ["changed_at", "from_status", "to_status", "changed_by", "note"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = _("状态变更记录")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("changed_by")


def _status_action(to: str, description):
    def action(modeladmin, request, queryset):
        done, refused = 0, []
        for volunteer in queryset:
            try:
                change_volunteer_status(volunteer=volunteer, to=to, by=request.user)
                done += 1
            except ValidationError as exc:
                refused.append(f"{volunteer.name}:{exc.messages[0]}")
        if done:
            modeladmin.message_user(request, gettext("已处理 %(n)d 人。") % {"n": done}, messages.SUCCESS)
        for line in refused[:20]:
            modeladmin.message_user(request, line, messages.WARNING)

    action.__name__ = f"set_status_{to}"
    return admin.action(description=description, permissions=["change"])(action)


class VolunteerForm(forms.ModelForm):
    """Accepts a mobile number as people write it ("139 0600 1234", "+86…"); the model normalises."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "mobile" in self.fields:
            self.fields["mobile"].max_length = 20
            self.fields["mobile"].validators = []
            self.fields["mobile"].widget.attrs["maxlength"] = 20

    def clean_mobile(self):
        return normalize_mobile(self.cleaned_data["mobile"])


@admin.register(Volunteer)
class VolunteerAdmin(JurisdictionAdminMixin, ScopedImportExportMixin, admin.ModelAdmin):
    form = VolunteerForm
    resource_classes = [VolunteerResource]
    list_display = ["name", "sex", "id_number_display", "mobile", "federation", "status", "check_valid_until"]
    list_display_links = ["name"]
    list_select_related = ["federation"]
    search_fields = ["name", "mobile", "=id_number"]
    list_filter = [
        *district_and_street_filters("federation"),
        "status",
        "source_tags",
        "skills",
        SafeguardingCheckStatusFilter,
    ]
    autocomplete_fields = ["federation", "user"]
    formfield_overrides = {models.ManyToManyField: {"widget": forms.CheckboxSelectMultiple}}
    inlines = [SafeguardingCheckInline, StatusHistoryInline]
    actions = [
        "approve_selected",
        _status_action(VolunteerStatus.SUSPENDED, _("暂停所选爱心妈妈")),
        _status_action(VolunteerStatus.ACTIVE, _("恢复所选爱心妈妈(在岗)")),
        _status_action(VolunteerStatus.LEFT, _("将所选爱心妈妈设为已退出")),
        "create_accounts",
        "reset_passwords",
    ]
    list_per_page = 100
    show_full_result_count = False

    volunteer_fields = [
        "name",
        "sex",
        "id_number",
        "birth_date",
        "mobile",
        "federation",
        "address",
        "employer",
        "source_tags",
        "skills",
        "capacity",
        "status",
        "user",
        "notes",
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).with_check_valid_until()

    # --- identity masking -------------------------------------------------------------

    @admin.display(description=_("身份证号码"), ordering="id_number")
    def id_number_display(self, volunteer):
        return mask_id_number(volunteer.id_number)

    @admin.display(description=_("身份证号码"))
    def masked_id_number(self, volunteer):
        return mask_id_number(volunteer.id_number)

    def get_list_display(self, request):
        shown = list(super().get_list_display(request))
        if can_view_full_identity(request):
            shown[shown.index("id_number_display")] = "id_number"
        return shown

    def get_fields(self, request, obj=None):
        fields = list(self.volunteer_fields)
        if obj is not None and not can_view_full_identity(request):
            fields[fields.index("id_number")] = "masked_id_number"
        return fields

    def get_readonly_fields(self, request, obj=None):
        return ["masked_id_number", "birth_date", "status"]

    # --- checks column ----------------------------------------------------------------

    @admin.display(description=_("无犯罪记录有效期至"), ordering="check_valid_until")
    def check_valid_until(self, volunteer):
        until = getattr(volunteer, "check_valid_until", None)
        if until is None:
            return "—"
        today = timezone.localdate()
        if until < today:
            return gettext("%(d)s(已过期)") % {"d": until.isoformat()}
        if until <= today + datetime.timedelta(days=EXPIRY_WARNING_DAYS):
            return gettext("%(d)s(即将到期)") % {"d": until.isoformat()}
        return until.isoformat()

    # --- writes go through the services -----------------------------------------------

    def save_model(self, request, obj, form, change):
        if change:
            obj.save()
        else:
            register_volunteer(volunteer=obj, by=request.user)

    def save_formset(self, request, form, formset, change):
        if formset.model is not SafeguardingCheck:
            return super().save_formset(request, form, formset, change)
        for check in formset.save(commit=False):
            if check.pk is None:
                record_safeguarding_check(
                    volunteer=form.instance,
                    checked_on=check.checked_on,
                    result=check.result,
                    valid_until=check.valid_until,
                    by=request.user,
                    authority=check.authority,
                    note=check.note,
                )
        return None

    @admin.action(description=_("批量通过申请"), permissions=["change"])
    def approve_selected(self, request, queryset):
        counts = approve_applicants(queryset, by=request.user)
        self.message_user(
            request,
            gettext("已通过 %(approved)d 人的申请;%(skipped)d 人不在“申请中”状态,未作改动。") % counts,
            messages.SUCCESS if counts["approved"] else messages.WARNING,
        )

    # --- sign-in accounts for the volunteers' pages ---------------------------------------

    @admin.action(description=_("为所选爱心妈妈开通登录账号"), permissions=["change"])
    def create_accounts(self, request, queryset):
        for volunteer in queryset[:50]:
            try:
                user, password = create_volunteer_account(volunteer=volunteer, by=request.user)
            except ValidationError as exc:
                self.message_user(request, exc.messages[0], messages.WARNING)
                continue
            self.message_user(
                request,
                gettext("%(name)s:账号 %(username)s,临时密码 %(password)s(只显示这一次,请转交本人并提醒修改)")
                % {"name": volunteer.name, "username": user.username, "password": password},
                messages.SUCCESS,
            )

    @admin.action(description=_("重置所选爱心妈妈的登录密码"), permissions=["change"])
    def reset_passwords(self, request, queryset):
        for volunteer in queryset.select_related("user")[:50]:
            try:
                password = reset_volunteer_password(volunteer=volunteer, by=request.user)
            except ValidationError as exc:
                self.message_user(request, exc.messages[0], messages.WARNING)
                continue
            self.message_user(
                request,
                gettext("%(name)s:账号 %(username)s,新临时密码 %(password)s(只显示这一次)")
                % {"name": volunteer.name, "username": volunteer.user.username, "password": password},
                messages.SUCCESS,
            )


class TeamMembershipInline(ScopedChoicesMixin, admin.TabularInline):
    model = TeamMembership
    fields = ["volunteer", "role", "joined_on", "left_on"]
    autocomplete_fields = ["volunteer"]
    extra = 0

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("volunteer")


class ProjectInline(admin.StackedInline):
    model = Project
    fields = [("name", "starts_on", "ends_on"), "description"]
    extra = 0


@admin.register(Team)
class TeamAdmin(JurisdictionAdminMixin, ScopedImportExportMixin, admin.ModelAdmin):
    resource_classes = [TeamResource]
    list_display = [
        "name",
        "kind",
        "category",
        "federation",
        "host_organisation",
        "leader",
        "member_count",
        "capacity",
        "founded_on",
    ]
    list_select_related = ["federation", "leader"]
    search_fields = ["name", "host_organisation", "federation__name"]
    list_filter = [*district_and_street_filters("federation"), "kind", "category"]
    autocomplete_fields = ["federation", "leader"]
    fields = [
        "name",
        ("kind", "category"),
        "federation",
        "host_organisation",
        "leader",
        ("founded_on", "capacity"),
        "description",
    ]
    inlines = [TeamMembershipInline, ProjectInline]
    ordering = ["federation__path", "name"]  # Meta.ordering is not applied to the grouped member count
    list_per_page = 100
    show_full_result_count = False

    def get_queryset(self, request):
        return super().get_queryset(request).with_member_count()

    @admin.display(description=_("在队人数"), ordering="member_count")
    def member_count(self, team):
        return team.member_count


@admin.register(Project)
class ProjectAdmin(JurisdictionAdminMixin, admin.ModelAdmin):
    list_display = ["name", "team", "team_unit", "starts_on", "ends_on"]
    list_select_related = ["team__federation"]
    search_fields = ["name", "team__name"]
    list_filter = [*district_and_street_filters("team__federation")]
    autocomplete_fields = ["team"]

    @admin.display(description=_("所属妇联"), ordering="team__federation__path")
    def team_unit(self, project):
        return project.team.federation


@admin.register(Honour)
class HonourAdmin(JurisdictionAdminMixin, admin.ModelAdmin):
    list_display = ["name", "kind", "batch", "awarded_on", "awarding_unit", "recipient_display"]
    list_select_related = ["awarding_unit", "recipient_unit", "recipient_team", "recipient_volunteer"]
    list_filter = ["kind", "batch"]
    search_fields = ["name", "batch", "recipient_unit__name", "recipient_team__name", "recipient_volunteer__name"]
    autocomplete_fields = ["awarding_unit", "recipient_unit", "recipient_team", "recipient_volunteer"]
    fields = [
        ("kind", "name", "batch"),
        ("awarded_on", "awarding_unit"),
        "recipient_unit",
        "recipient_team",
        "recipient_volunteer",
    ]

    @admin.display(description=_("获授对象"))
    def recipient_display(self, honour):
        return honour.recipient


@admin.register(TeamMembership)
class TeamMembershipAdmin(JurisdictionAdminMixin, ScopedImportExportMixin, admin.ModelAdmin):
    resource_classes = [TeamMembershipResource]
    list_display = ["team", "volunteer", "role", "joined_on", "left_on"]
    list_select_related = ["team", "volunteer"]
    list_filter = [*district_and_street_filters("team__federation"), "role"]
    search_fields = ["team__name", "volunteer__name", "=volunteer__id_number"]
    autocomplete_fields = ["team", "volunteer"]
    list_per_page = 100
    show_full_result_count = False
