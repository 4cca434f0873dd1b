"""Volunteers, teams and memberships in spreadsheets, on the shared base (aixinmama.resources).

- Volunteers: one row per person, deduplicated by ID number (re-importing updates, never
  duplicates). Units by division code or name path. Source tags and skills as Chinese labels
  separated by 、. Sex may be left blank (read from the ID number). New volunteers arrive as
  applicants (申请中) with their status history opened; approval is a separate, deliberate step
  in the changelist (批量通过申请). The 状态 and check columns are exported for reading only.
- Teams: keyed by owning unit + team name; the leader by her ID number (masked on export
  unless the user may see full ID numbers, so re-import leaves the leader as it is).
- Memberships: keyed by team (unit + name), volunteer (ID number) and joining date.
- Everything is validated first, then written in bulk; any error anywhere and nothing is
  written. Exports are scoped to the user's jurisdiction, ID numbers masked, formula-like cells
  neutralised (by the base).
"""

from django.core.exceptions import ValidationError
from django.utils import timezone
from import_export.fields import Field
from import_export.instance_loaders import BaseInstanceLoader
from import_export.widgets import Widget

from aixinmama.identity import id_sex, mask_id_number
from aixinmama.resources import (
    BaseModelResource,
    ChoiceWidget,
    DateWidget,
    IDNumberWidget,
    IntegerWidget,
    MobileWidget,
    MultiChoiceWidget,
    TextWidget,
    UnitWidget,
    _text,
)

from .models import (
    MemberRole,
    Sex,
    SkillArea,
    SourceTag,
    SourceTagChoice,
    Team,
    TeamCategory,
    TeamKind,
    TeamMembership,
    Volunteer,
    VolunteerStatusChange,
)
from .selectors import visible_to

FULL_IDENTITY_PERMISSION = "teams.view_full_identity"


class OptionalField(Field):
    """A column that may be absent from the sheet (the value is then left as it is)."""

    optional_column = True


class ExportOnlyField(OptionalField):
    def __init__(self, **kwargs):
        super().__init__(readonly=True, **kwargs)


class VolunteerResource(BaseModelResource):
    skip_field_checks = ("federation", "user")
    name = Field(attribute="name", column_name="姓名", widget=TextWidget())
    sex = OptionalField(attribute="sex", column_name="性别", widget=ChoiceWidget(Sex.choices, required=False))
    id_number = Field(attribute="id_number", column_name="身份证号码", widget=IDNumberWidget())
    mobile = Field(attribute="mobile", column_name="手机号码", widget=MobileWidget())
    federation = Field(attribute="federation", column_name="所属妇联", widget=UnitWidget())
    federation_name = ExportOnlyField(column_name="所属妇联名称")
    address = OptionalField(attribute="address", column_name="居住地址", widget=TextWidget())
    employer = OptionalField(attribute="employer", column_name="工作单位或职业", widget=TextWidget())
    source_tag_codes = OptionalField(
        attribute="source_tag_codes",
        column_name="来源",
        widget=MultiChoiceWidget(SourceTagChoice.choices, required=False),
    )
    skill_codes = OptionalField(
        attribute="skill_codes", column_name="特长领域", widget=MultiChoiceWidget(TeamCategory.choices, required=False)
    )
    capacity = OptionalField(attribute="capacity", column_name="可结对儿童数", widget=IntegerWidget(minimum=0))
    notes = OptionalField(attribute="notes", column_name="备注", widget=TextWidget())
    status = ExportOnlyField(column_name="状态")
    check_valid_until = ExportOnlyField(column_name="无犯罪记录有效期至")

    natural_key = "id_number"
    masked_fields = {"id_number": mask_id_number}
    full_identity_permission = FULL_IDENTITY_PERMISSION

    class Meta(BaseModelResource.Meta):
        model = Volunteer
        fields = [
            "name",
            "sex",
            "id_number",
            "mobile",
            "federation",
            "federation_name",
            "address",
            "employer",
            "source_tag_codes",
            "skill_codes",
            "capacity",
            "notes",
            "status",
            "check_valid_until",
        ]
        import_id_fields = ["id_number"]

    # --- import ----------------------------------------------------------------------

    def import_instance(self, instance, row, **kwargs):
        errors = {}
        try:
            super().import_instance(instance, row, **kwargs)
        except ValidationError as exc:
            errors = exc.update_error_dict(errors)
        if instance.id_number and "id_number" not in errors and not instance.sex and "sex" not in errors:
            instance.sex = id_sex(instance.id_number)
        if instance.capacity is None:
            instance.capacity = Volunteer._meta.get_field("capacity").default
        if errors:
            raise ValidationError(errors)

    def before_save_instance(self, instance, row, **kwargs):
        instance.updated_at = timezone.now()
        if instance.created_at is None:
            instance.created_at = instance.updated_at

    def get_bulk_update_fields(self):
        return [
            "name",
            "sex",
            "birth_date",
            "mobile",
            "federation",
            "address",
            "employer",
            "capacity",
            "notes",
            "updated_at",
        ]

    def write_related(self, volunteers, *, new):
        """Tag and skill links (a non-blank cell replaces them), and for new volunteers the history."""
        links = (
            (Volunteer.source_tags.through, "sourcetag_id", "source_tag_codes", SourceTag),
            (Volunteer.skills.through, "skillarea_id", "skill_codes", SkillArea),
        )
        for through, column, attribute, lookup in links:
            pk_of = dict(lookup.objects.ensure_all().values_list("code", "pk"))
            replaced = [v for v in volunteers if getattr(v, attribute, None)]
            if not new and replaced:
                through.objects.filter(volunteer_id__in=[v.pk for v in replaced]).delete()
            through.objects.bulk_create(
                [
                    through(volunteer_id=v.pk, **{column: pk_of[code]})
                    for v in replaced
                    for code in getattr(v, attribute)
                ],
                batch_size=2000,
            )
        if new:
            by = self.user if getattr(self.user, "pk", None) else None
            VolunteerStatusChange.objects.bulk_create(
                [
                    VolunteerStatusChange(
                        volunteer_id=v.pk, from_status="", to_status=v.status, changed_by=by, note="表格导入"
                    )
                    for v in volunteers
                ],
                batch_size=2000,
            )

    # --- export ----------------------------------------------------------------------

    def filter_export(self, queryset, **kwargs):
        return (
            visible_to(queryset, self.user)
            .with_check_valid_until()
            .select_related("federation")
            .prefetch_related("source_tags", "skills")
        )

    def export(self, queryset=None, **kwargs):
        return super().export(Volunteer.objects.all() if queryset is None else queryset, **kwargs)

    def dehydrate_federation_name(self, volunteer):
        return volunteer.federation.name

    def dehydrate_source_tag_codes(self, volunteer):
        return "、".join(str(t) for t in volunteer.source_tags.all())

    def dehydrate_skill_codes(self, volunteer):
        return "、".join(str(s) for s in volunteer.skills.all())

    def dehydrate_status(self, volunteer):
        return volunteer.get_status_display()

    def dehydrate_check_valid_until(self, volunteer):
        until = getattr(volunteer, "check_valid_until", None)
        return until.isoformat() if until else ""


# ----------------------------------------------------------------------------------------
# Teams and memberships: composite keys, prefetched once per sheet


class VolunteerByIDWidget(Widget):
    """A volunteer by ID number, among those the importing user can see (prefetched in one query)."""

    def __init__(self, required=True, **kwargs):
        self.required = required
        self.user = None
        self._by_id: dict[str, Volunteer] = {}
        self._id_widget = IDNumberWidget()
        super().__init__(**kwargs)

    def prefetch(self, values) -> None:
        keys = set()
        for value in values:
            try:
                keys.add(self._id_widget.clean(value))
            except ValueError:
                continue
        self._by_id = {v.id_number: v for v in visible_to(Volunteer.objects.filter(id_number__in=keys), self.user)}

    def clean(self, value, row=None, **kwargs):
        if not _text(value):
            if self.required:
                raise ValueError("身份证号码不能为空。")
            return None
        id_number = self._id_widget.clean(value)
        volunteer = self._by_id.get(id_number)
        if volunteer is None:
            raise ValueError(f"身份证号码为 {mask_id_number(id_number)} 的爱心妈妈未登记,或不在您的管辖范围内。")
        return volunteer

    def render(self, value, obj=None, **kwargs):
        return value.id_number if value else ""


class CompositeKeyInstanceLoader(BaseInstanceLoader):
    """Existing rows for the whole sheet in one query, by the resource's `row_key(row)`."""

    def __init__(self, resource, dataset=None):
        super().__init__(resource, dataset)
        self.instances = resource.existing_by_key(dataset) if dataset is not None else {}

    def get_instance(self, row):
        key = self.resource.row_key(row)
        return self.instances.get(key) if key is not None else None


class _CompositeKeyResource(BaseModelResource):
    """Shared by teams and memberships: a natural key of several columns."""

    natural_key = None
    key_description = ""

    class Meta(BaseModelResource.Meta):
        instance_loader_class = CompositeKeyInstanceLoader

    def before_import(self, dataset, **kwargs):
        super().before_import(dataset, **kwargs)
        for field in self.get_import_fields():
            if isinstance(field.widget, VolunteerByIDWidget):
                field.widget.user = self.user
                field.widget.prefetch(dataset[field.column_name])

    def row_key(self, row):
        raise NotImplementedError

    def existing_by_key(self, dataset) -> dict:
        raise NotImplementedError

    def _clean(self, name, row):
        field = self.fields[name]
        try:
            return field.clean(row)
        except (ValueError, ValidationError):
            return None

    def before_import_row(self, row, row_number=None, **kwargs):
        key = self.row_key(row)
        if key is None:
            return
        sheet_row = self.sheet_row(row_number)
        if key in self._seen_keys:
            raise ValidationError(f"与第 {self._seen_keys[key]} 行重复(同一表格中{self.key_description}只能出现一次)。")
        self._seen_keys[key] = sheet_row


class TeamResource(_CompositeKeyResource):
    skip_field_checks = ("federation", "leader")
    name = Field(attribute="name", column_name="队伍名称", widget=TextWidget())
    kind = Field(attribute="kind", column_name="队伍类型", widget=ChoiceWidget(TeamKind.choices))
    category = OptionalField(
        attribute="category", column_name="特色类别", widget=ChoiceWidget(TeamCategory.choices, required=False)
    )
    federation = Field(attribute="federation", column_name="所属妇联", widget=UnitWidget())
    federation_name = ExportOnlyField(column_name="所属妇联名称")
    host_organisation = OptionalField(attribute="host_organisation", column_name="依托单位", widget=TextWidget())
    leader = OptionalField(attribute="leader", column_name="队长身份证号码", widget=VolunteerByIDWidget(required=False))
    leader_name = ExportOnlyField(column_name="队长姓名")
    founded_on = OptionalField(attribute="founded_on", column_name="成立日期", widget=DateWidget())
    capacity = OptionalField(attribute="capacity", column_name="可结对儿童数", widget=IntegerWidget(minimum=0))
    description = OptionalField(attribute="description", column_name="简介", widget=TextWidget())

    key_description = "同一单位的队伍名称"
    masked_fields = {"leader": mask_id_number}
    full_identity_permission = FULL_IDENTITY_PERMISSION

    class Meta(_CompositeKeyResource.Meta):
        model = Team
        fields = [
            "name",
            "kind",
            "category",
            "federation",
            "federation_name",
            "host_organisation",
            "leader",
            "leader_name",
            "founded_on",
            "capacity",
            "description",
        ]
        import_id_fields = ["federation", "name"]

    def row_key(self, row):
        unit, name = self._clean("federation", row), self._clean("name", row)
        return (unit.pk, name) if unit is not None and name else None

    def existing_by_key(self, dataset):
        names = {_text(v) for v in dataset[self.fields["name"].column_name]} - {""}
        teams = visible_to(Team.objects.filter(name__in=names), self.user)
        return {(t.federation_id, t.name): t for t in teams}

    def import_row(self, row, instance_loader, **kwargs):
        # A masked leader (an export by a user without the full-identity permission) keeps the leader.
        column = self.fields["leader"].column_name
        if column in row and "*" in _text(row[column]):
            row = dict(row)
            row.pop(column)
        return super().import_row(row, instance_loader, **kwargs)

    def import_instance(self, instance, row, **kwargs):
        errors = {}
        try:
            super().import_instance(instance, row, **kwargs)
        except ValidationError as exc:
            errors = exc.update_error_dict(errors)
        if instance.capacity is None:
            instance.capacity = 0
        if instance.category is None:
            instance.category = ""
        if errors:
            raise ValidationError(errors)

    def before_save_instance(self, instance, row, **kwargs):
        instance.updated_at = timezone.now()
        if instance.created_at is None:
            instance.created_at = instance.updated_at

    def get_bulk_update_fields(self):
        return [
            "kind",
            "category",
            "host_organisation",
            "leader",
            "founded_on",
            "capacity",
            "description",
            "updated_at",
        ]

    def filter_export(self, queryset, **kwargs):
        return visible_to(queryset, self.user).select_related("federation", "leader")

    def export(self, queryset=None, **kwargs):
        return super().export(Team.objects.all() if queryset is None else queryset, **kwargs)

    def dehydrate_federation_name(self, team):
        return team.federation.name

    def dehydrate_leader(self, team):
        return team.leader.id_number if team.leader_id else ""

    def dehydrate_leader_name(self, team):
        return team.leader.name if team.leader_id else ""


class TeamByNameWidget(Widget):
    """A team by name, within the unit given in the row's unit column (prefetched in one query)."""

    def __init__(self, unit_column: str, **kwargs):
        self.unit_column = unit_column
        self.unit_widget = None
        self.user = None
        self._teams: dict[tuple[int, str], Team] = {}
        super().__init__(**kwargs)

    def prefetch(self, names) -> None:
        names = {_text(n) for n in names} - {""}
        self._teams = {(t.federation_id, t.name): t for t in visible_to(Team.objects.filter(name__in=names), self.user)}

    def clean(self, value, row=None, **kwargs):
        name = _text(value)
        if not name:
            raise ValueError("队伍名称不能为空。")
        try:
            unit = self.unit_widget.clean(row.get(self.unit_column)) if row is not None else None
        except ValueError:
            unit = None
        if unit is None:
            raise ValueError(f"请在“{self.unit_column}”列填写队伍所属妇联(区划代码或名称路径)。")
        team = self._teams.get((unit.pk, name))
        if team is None:
            raise ValueError(f"“{unit.name}”没有名为“{name}”的队伍,或不在您的管辖范围内。")
        return team

    def render(self, value, obj=None, **kwargs):
        return value.name if value else ""


class TeamMembershipResource(_CompositeKeyResource):
    team_unit = Field(column_name="队伍所属妇联", widget=UnitWidget(), readonly=True)
    team = Field(attribute="team", column_name="队伍名称", widget=TeamByNameWidget(unit_column="队伍所属妇联"))
    volunteer = Field(attribute="volunteer", column_name="身份证号码", widget=VolunteerByIDWidget())
    volunteer_name = ExportOnlyField(column_name="姓名")
    role = OptionalField(
        attribute="role",
        column_name="角色",
        widget=ChoiceWidget(MemberRole.choices, required=False, default=MemberRole.MEMBER),
    )
    joined_on = Field(attribute="joined_on", column_name="加入日期", widget=DateWidget(required=True))
    left_on = OptionalField(attribute="left_on", column_name="退出日期", widget=DateWidget())

    key_description = "同一队伍、同一人、同一加入日期"
    masked_fields = {"volunteer": mask_id_number}
    full_identity_permission = FULL_IDENTITY_PERMISSION

    class Meta(_CompositeKeyResource.Meta):
        model = TeamMembership
        fields = ["team_unit", "team", "volunteer", "volunteer_name", "role", "joined_on", "left_on"]
        import_id_fields = ["team", "volunteer", "joined_on"]

    def before_import(self, dataset, **kwargs):
        super().before_import(dataset, **kwargs)
        unit_widget = self.fields["team_unit"].widget
        unit_widget.user = self.user
        unit_widget.prefetch(dataset[self.fields["team_unit"].column_name])
        team_widget = self.fields["team"].widget
        team_widget.user = self.user
        team_widget.unit_widget = unit_widget
        team_widget.prefetch(dataset[self.fields["team"].column_name])

    def row_key(self, row):
        team, volunteer, joined = (self._clean(n, row) for n in ("team", "volunteer", "joined_on"))
        if team is None or volunteer is None or joined is None:
            return None
        return (team.pk, volunteer.pk, joined)

    def existing_by_key(self, dataset):
        teams = list(self.fields["team"].widget._teams.values())
        memberships = visible_to(TeamMembership.objects.filter(team__in=teams), self.user)
        return {(m.team_id, m.volunteer_id, m.joined_on): m for m in memberships}

    def import_instance(self, instance, row, **kwargs):
        errors = {}
        try:
            super().import_instance(instance, row, **kwargs)
        except ValidationError as exc:
            errors = exc.update_error_dict(errors)
        if not instance.role:
            instance.role = MemberRole.MEMBER
        if errors:
            raise ValidationError(errors)

    def validate_instance(self, instance, import_validation_errors=None, validate_unique=True):
        errors = dict(import_validation_errors or {})
        try:
            instance.full_clean(
                exclude=[*errors, "team", "volunteer"], validate_unique=False, validate_constraints=False
            )
        except ValidationError as exc:
            errors = exc.update_error_dict(errors)
        if (
            instance.left_on
            and instance.joined_on
            and instance.left_on < instance.joined_on
            and "left_on" not in errors
        ):
            errors["left_on"] = ["退出日期不能早于加入日期。"]
        if errors:
            raise ValidationError(errors)

    def get_bulk_update_fields(self):
        return ["role", "left_on"]

    def filter_export(self, queryset, **kwargs):
        return visible_to(queryset, self.user).select_related("team__federation", "volunteer")

    def export(self, queryset=None, **kwargs):
        return super().export(TeamMembership.objects.all() if queryset is None else queryset, **kwargs)

    def dehydrate_team_unit(self, membership):
        unit = membership.team.federation
        return unit.division_code or unit.name

    def dehydrate_volunteer(self, membership):
        return membership.volunteer.id_number

    def dehydrate_volunteer_name(self, membership):
        return membership.volunteer.name


__all__ = ["TeamMembershipResource", "TeamResource", "VolunteerResource"]
