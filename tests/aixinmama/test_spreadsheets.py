"""The spreadsheet base, exercised through a small resource over staff accounts."""

import io

import openpyxl
import pytest
from import_export.fields import Field

from aixinmama.resources import (
    CSV,
    XLSX,
    BaseModelResource,
    SheetFileError,
    TextWidget,
    UnitWidget,
    neutralise_formula,
    run_import,
)
from teams.models import User


class AccountResource(BaseModelResource):
    username = Field(attribute="username", column_name="账号", widget=TextWidget())
    last_name = Field(attribute="last_name", column_name="姓", widget=TextWidget())
    federation = Field(attribute="federation", column_name="所属妇联", widget=UnitWidget())
    natural_key = "username"
    masked_fields = {"last_name": lambda value: value[:1] + "*"}
    full_identity_permission = "teams.change_user"

    class Meta(BaseModelResource.Meta):
        model = User
        fields = ["username", "last_name", "federation"]
        import_id_fields = ["username"]

    def after_init_instance(self, instance, new, row, **kwargs):
        if new:
            instance.set_unusable_password()


def csv_bytes(text: str, encoding="utf-8") -> bytes:
    return text.replace("\n", "\r\n").encode(encoding)


@pytest.mark.django_db
def test_csv_import_creates_then_updates_without_duplicates(xiamen, siming_staff):
    data = csv_bytes("账号,姓,所属妇联\nwang,王,350203001\nli,李,思明区/厦港街道\n")
    outcome = run_import(AccountResource(user=siming_staff), CSV().create_dataset(data))
    assert outcome.errors == []
    assert (outcome.created, outcome.updated) == (2, 0)
    assert User.objects.get(username="li").federation.division_code == "350203001"

    again = run_import(AccountResource(user=siming_staff), CSV().create_dataset(data))
    assert (again.created, again.updated) == (0, 2)
    assert User.objects.filter(username__in=["wang", "li"]).count() == 2


@pytest.mark.django_db
def test_gbk_csv_is_read(xiamen, siming_staff):
    data = csv_bytes("账号,姓,所属妇联\nzhao,赵,350203001\n", encoding="gbk")
    outcome = run_import(AccountResource(user=siming_staff), CSV().create_dataset(data))
    assert outcome.ok
    assert User.objects.get(username="zhao").last_name == "赵"


@pytest.mark.django_db
def test_bad_rows_write_nothing_and_report_row_and_column(xiamen, siming_staff):
    data = csv_bytes(
        "账号,姓,所属妇联\n"
        "a1,王,350203001\n"
        "\n"  # a blank line keeps the numbering of the rows below
        "a2,李,999999999\n"
        "a1,张,350203001\n"
        "a3,赵,350205001\n"  # 海沧区: outside the Siming user's jurisdiction
    )
    before = User.objects.count()
    outcome = run_import(AccountResource(user=siming_staff), CSV().create_dataset(data))
    assert User.objects.count() == before
    assert [(e.row, e.column) for e in outcome.errors] == [
        (4, "C「所属妇联」"),
        (5, "A「账号」"),
        (6, "C「所属妇联」"),
    ]
    assert "999999999" in outcome.errors[0].message
    assert "第 2 行" in outcome.errors[1].message
    assert str(outcome.errors[0]).startswith("第 4 行,C「所属妇联」 列")


@pytest.mark.django_db
def test_missing_column_is_one_clear_error(xiamen, siming_staff):
    outcome = run_import(AccountResource(user=siming_staff), CSV().create_dataset(csv_bytes("账号,姓\nx,王\n")))
    assert len(outcome.errors) == 1
    assert "缺少列:所属妇联" in outcome.errors[0].message
    assert not User.objects.filter(username="x").exists()


def test_merged_header_cells_are_a_clear_error():
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["账号", "姓", None])
    sheet.merge_cells("B1:C1")
    sheet.append(["x", "王", "350203001"])
    buffer = io.BytesIO()
    book.save(buffer)
    with pytest.raises(SheetFileError, match="C 列的表头为空"):
        XLSX().create_dataset(buffer.getvalue())


def test_xlsx_with_an_extra_sheet_reads_the_first():
    book = openpyxl.Workbook()
    book.active.append(["账号", "姓", "所属妇联"])
    book.active.append(["x", "王", "350203001"])
    notes = book.create_sheet("说明")
    notes.append(["填写说明"])
    buffer = io.BytesIO()
    book.save(buffer)
    dataset = XLSX().create_dataset(buffer.getvalue())
    assert dataset.headers == ["账号", "姓", "所属妇联"]
    assert dataset.sheet_row_numbers == [2]


def test_undecodable_csv_is_a_clear_error():
    with pytest.raises(SheetFileError, match="编码"):
        CSV().create_dataset(b"\xff\xfe\xfa\xfb\x81")


@pytest.mark.parametrize(
    ("value", "expected"),
    [("=1+2", "'=1+2"), ("+86", "'+86"), ("-1", "'-1"), ("@SUM(A1)", "'@SUM(A1)"), ("王芳", "王芳"), (5, 5)],
)
def test_formula_neutralisation(value, expected):
    assert neutralise_formula(value) == expected


@pytest.mark.django_db
def test_export_masks_and_neutralises_and_csv_has_bom(xiamen, siming_staff, siming):
    User.objects.create_user(username="=cmd|' /C calc'!A0", last_name="欧阳", federation=siming)
    dataset = AccountResource(user=siming_staff).export(User.objects.filter(last_name="欧阳"))
    assert dataset.dict[0]["账号"] == "'=cmd|' /C calc'!A0"
    assert dataset.dict[0]["姓"] == "欧*"
    exported = CSV().export_data(dataset)
    assert exported.startswith("\ufeff".encode())
    assert "欧*".encode() in exported
