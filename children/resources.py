"""Children in spreadsheets: import and export through the shared base (aixinmama.resources).

One row per child, Chinese headers, the village by division code (or name path), categories
and needs as Chinese labels separated by 、, and up to two guardians in columns
(监护人1姓名 / 监护人1关系 / 监护人1电话 / 监护人1是否同住, then 监护人2…).

- Dedupe by ID number: a row whose number is already registered (in the importer's
  jurisdiction) updates that child; one registered elsewhere is refused on that row.
- Sex and birth date may be left blank: they are then read from the ID number; when given
  they must agree with it.
- Guardians of an existing child are matched by name: a listed guardian is updated or
  added, guardians not in the sheet are kept (an import never deletes data).
- Categories and needs in the sheet replace the child's; a blank cell leaves them as they are
  on an update.
- Everything is validated first (widgets + the model's clean(), no query per row), then
  written in bulk: children, their category/need links and guardians. Any error anywhere
  and nothing is written (`run_import`).
- Export: the user's jurisdiction only; ID numbers (6+4) and phones (3+4) masked unless the
  user holds `children.view_full_identity`; formula-like cells neutralised; CSV with BOM. A
  masked export is for reading: it cannot be re-imported (the ID number is the key).
"""

from django.core.exceptions import ValidationError
from django.utils import timezone
from import_export.fields import Field

from aixinmama.history import insert_rows
from aixinmama.identity import id_birth_date, id_sex, mask_id_number, mask_phone
from aixinmama.resources import (
    BaseModelResource,
    BooleanWidget,
    ChoiceWidget,
    DateWidget,
    IDNumberWidget,
    MobileWidget,
    MultiChoiceWidget,
    TextWidget,
    UnitWidget,
)
from teams.selectors import visible_to

from .models import (
    CategoryCode,
    Child,
    ChildStatus,
    ExitReason,
    Guardian,
    GuardianRelation,
    NeedCode,
    RiskGrade,
    Sex,
)

GUARDIAN_SLOTS = (1, 2)
GUARDIAN_PARTS = ("name", "relation", "phone", "lives")


def guardian_attr(slot, part):
    return f"guardian{slot}_{part}"


_GUARDIAN_CHECKS = [
    (s, guardian_attr(s, "name"), guardian_attr(s, "relation"), guardian_attr(s, "phone")) for s in GUARDIAN_SLOTS
]


class OptionalField(Field):
    """A column that may be absent from the sheet (its value is then left as it is)."""

    optional_column = True


# Model columns written by bulk_update on re-import (the resource's own fields are not all columns).
UPDATE_FIELDS = [
    "name",
    "sex",
    "birth_date",
    "village",
    "address",
    "school",
    "grade",
    "risk_grade",
    "risk_reason",
    "risk_changed_on",
    "risk_changed_by",
    "status",
    "exit_reason",
    "exit_date",
    "exit_note",
    "updated_at",
]


class ChildResource(BaseModelResource):
    skip_field_checks = ("village",)  # its level is checked by Child.clean()
    name = Field(attribute="name", column_name="姓名", widget=TextWidget())
    sex = OptionalField(attribute="sex", column_name="性别", widget=ChoiceWidget(Sex.choices, required=False))
    id_number = Field(attribute="id_number", column_name="身份证号码", widget=IDNumberWidget())
    birth_date = OptionalField(attribute="birth_date", column_name="出生日期", widget=DateWidget())
    village = Field(attribute="village", column_name="所在村(居)代码", widget=UnitWidget())
    village_name = OptionalField(column_name="所在村(居)名称", readonly=True)
    address = OptionalField(attribute="address", column_name="居住地址", widget=TextWidget())
    school = OptionalField(attribute="school", column_name="就读学校", widget=TextWidget())
    grade = OptionalField(attribute="grade", column_name="年级", widget=TextWidget())
    category_codes = OptionalField(
        attribute="category_codes",
        column_name="困境类别",
        widget=MultiChoiceWidget(CategoryCode.choices, required=False),
    )
    need_codes = OptionalField(
        attribute="need_codes", column_name="帮扶需求", widget=MultiChoiceWidget(NeedCode.choices, required=False)
    )
    risk_grade = OptionalField(
        attribute="risk_grade",
        column_name="风险等级",
        widget=ChoiceWidget(RiskGrade.choices, required=False, default=RiskGrade.GREEN),
    )
    risk_reason = OptionalField(attribute="risk_reason", column_name="风险等级调整原因", widget=TextWidget())
    status = OptionalField(
        attribute="status",
        column_name="状态",
        widget=ChoiceWidget(ChildStatus.choices, required=False, default=ChildStatus.IN_PROGRAMME),
    )
    exit_reason = OptionalField(
        attribute="exit_reason", column_name="退出原因", widget=ChoiceWidget(ExitReason.choices, required=False)
    )
    exit_date = OptionalField(attribute="exit_date", column_name="退出日期", widget=DateWidget())
    exit_note = OptionalField(attribute="exit_note", column_name="退出说明", widget=TextWidget())
    guardian1_name = OptionalField(attribute="guardian1_name", column_name="监护人1姓名", widget=TextWidget())
    guardian1_relation = OptionalField(
        attribute="guardian1_relation",
        column_name="监护人1关系",
        widget=ChoiceWidget(GuardianRelation.choices, required=False),
    )
    guardian1_phone = OptionalField(
        attribute="guardian1_phone", column_name="监护人1电话", widget=MobileWidget(required=False)
    )
    guardian1_lives = OptionalField(attribute="guardian1_lives", column_name="监护人1是否同住", widget=BooleanWidget())
    guardian2_name = OptionalField(attribute="guardian2_name", column_name="监护人2姓名", widget=TextWidget())
    guardian2_relation = OptionalField(
        attribute="guardian2_relation",
        column_name="监护人2关系",
        widget=ChoiceWidget(GuardianRelation.choices, required=False),
    )
    guardian2_phone = OptionalField(
        attribute="guardian2_phone", column_name="监护人2电话", widget=MobileWidget(required=False)
    )
    guardian2_lives = OptionalField(attribute="guardian2_lives", column_name="监护人2是否同住", widget=BooleanWidget())

    natural_key = "id_number"
    masked_fields = {"id_number": mask_id_number} | {guardian_attr(s, "phone"): mask_phone for s in GUARDIAN_SLOTS}
    full_identity_permission = "children.view_full_identity"

    class Meta(BaseModelResource.Meta):
        model = Child
        fields = [
            "name",
            "sex",
            "id_number",
            "birth_date",
            "village",
            "village_name",
            "address",
            "school",
            "grade",
            "category_codes",
            "need_codes",
            "risk_grade",
            "risk_reason",
            "status",
            "exit_reason",
            "exit_date",
            "exit_note",
            *(guardian_attr(s, p) for s in GUARDIAN_SLOTS for p in GUARDIAN_PARTS),
        ]
        import_id_fields = ["id_number"]

    _risk_day = None

    # --- import: per row (validation only, no queries) -------------------------------------

    def after_init_instance(self, instance, new, row, **kwargs):
        instance._original_risk = None if new else (instance.risk_grade, instance.risk_reason)

    def import_instance(self, instance, row, **kwargs):
        errors = {}
        try:
            super().import_instance(instance, row, **kwargs)
        except ValidationError as exc:
            errors = exc.update_error_dict(errors)
        # Sex and birth date default to what the ID number says.
        if instance.id_number and "id_number" not in errors:
            if not instance.sex and "sex" not in errors:
                instance.sex = id_sex(instance.id_number)
            if not instance.birth_date and "birth_date" not in errors:
                instance.birth_date = id_birth_date(instance.id_number)
        for slot, name_attr, relation_attr, phone_attr in _GUARDIAN_CHECKS:
            name = getattr(instance, name_attr, "")
            relation = getattr(instance, relation_attr, "")
            phone = getattr(instance, phone_attr, "")
            if name and not relation and relation_attr not in errors:
                errors[relation_attr] = [f"填写了监护人{slot}姓名,请同时填写与儿童的关系。"]
            if not name and (relation or phone) and name_attr not in errors:
                errors[name_attr] = [f"填写了监护人{slot}的关系或电话,请同时填写其姓名。"]
        if errors:
            raise ValidationError(errors)

    def clean_exclude(self, instance, errors) -> list[str]:
        exclude = [*super().clean_exclude(instance, errors), "risk_changed_by"]
        if "id_number" in errors:
            # Blank sex/birth date would have been read from the number: its error says it all.
            exclude += [name for name in ("sex", "birth_date") if not getattr(instance, name)]
        return exclude

    def before_save_instance(self, instance, row, **kwargs):
        now = timezone.now()
        instance.updated_at = now
        if instance.created_at is None:
            instance.created_at = now
        if instance.risk_grade != RiskGrade.GREEN or instance.risk_reason:
            if instance._original_risk != (instance.risk_grade, instance.risk_reason):
                if self._risk_day is None:
                    self._risk_day = timezone.localdate()  # once per import, not per row
                instance.risk_changed_on = self._risk_day
                instance.risk_changed_by = self.user if getattr(self.user, "pk", None) else None

    # --- import: bulk writes ----------------------------------------------------------

    def get_bulk_update_fields(self):
        return UPDATE_FIELDS

    def write_related(self, children, *, new):
        """Category and need links and guardians for a batch of saved children (new rows by
        `insert_rows`: COPY on PostgreSQL, bulk_create elsewhere)."""
        using = self.get_db_connection_name()
        through_models = (
            (Child.categories.through, "category_id", "category_codes"),
            (Child.needs.through, "need_id", "need_codes"),
        )
        for through, column, attribute in through_models:
            replaced = [c for c in children if getattr(c, attribute, None)]
            if not new and replaced:
                through.objects.filter(child_id__in=[c.pk for c in replaced]).delete()
            insert_rows(
                through,
                ["child_id", column],
                [(c.pk, code) for c in replaced for code in getattr(c, attribute)],
                using=using,
            )
        existing = {}
        if not new:
            for guardian in Guardian.objects.filter(child_id__in=[c.pk for c in children]):
                existing[(guardian.child_id, guardian.name)] = guardian
        to_create, to_update = [], []
        for child in children:
            for slot in GUARDIAN_SLOTS:
                name = getattr(child, guardian_attr(slot, "name"), "")
                if not name:
                    continue
                values = {
                    "relation": getattr(child, guardian_attr(slot, "relation")),
                    "phone": getattr(child, guardian_attr(slot, "phone"), "") or "",
                    "lives_with_child": bool(getattr(child, guardian_attr(slot, "lives"), False)),
                }
                guardian = existing.get((child.pk, name))
                if guardian is None:
                    to_create.append((child.pk, name, values["relation"], values["phone"], values["lives_with_child"]))
                else:
                    for key, value in values.items():
                        setattr(guardian, key, value)
                    to_update.append(guardian)
        insert_rows(Guardian, ["child_id", "name", "relation", "phone", "lives_with_child"], to_create, using=using)
        if to_update:
            Guardian.objects.bulk_update(to_update, ["relation", "phone", "lives_with_child"], batch_size=2000)

    # --- export -------------------------------------------------------------------------

    def filter_export(self, queryset, **kwargs):
        queryset = visible_to(queryset, self.user)
        return queryset.select_related("village").prefetch_related("categories", "needs", "guardians")

    def export(self, queryset=None, **kwargs):
        return super().export(Child.objects.all() if queryset is None else queryset, **kwargs)

    def dehydrate_village_name(self, child):
        return child.village.name

    def dehydrate_category_codes(self, child):
        return "、".join(str(c) for c in child.categories.all())

    def dehydrate_need_codes(self, child):
        return "、".join(str(n) for n in child.needs.all())


def _guardian_dehydrator(slot, part):
    def dehydrate(self, child):
        guardians = list(child.guardians.all())
        if len(guardians) < slot:
            return ""
        guardian = guardians[slot - 1]
        if part == "name":
            return guardian.name
        if part == "relation":
            return guardian.get_relation_display()
        if part == "phone":
            return guardian.phone
        return "是" if guardian.lives_with_child else "否"

    return dehydrate


for _slot in GUARDIAN_SLOTS:
    for _part in GUARDIAN_PARTS:
        setattr(ChildResource, f"dehydrate_{guardian_attr(_slot, _part)}", _guardian_dehydrator(_slot, _part))
