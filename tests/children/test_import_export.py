"""Children in spreadsheets: import all-or-nothing with row/column errors, masked scoped export."""

import datetime
import io

import openpyxl
import pytest
from django.urls import reverse

from aixinmama.identity import make_id_number, mask_id_number, mask_phone
from aixinmama.resources import CSV, SheetFileError, read_sheet, run_import
from children.models import Child, Guardian
from children.resources import ChildResource

from .conftest import ChildFactory, GuardianFactory

HEADERS = [
    "姓名",
    "性别",
    "身份证号码",
    "出生日期",
    "所在村(居)代码",
    "困境类别",
    "帮扶需求",
    "风险等级",
    "监护人1姓名",
    "监护人1关系",
    "监护人1电话",
    "监护人1是否同住",
    "监护人2姓名",
    "监护人2关系",
    "监护人2电话",
    "监护人2是否同住",
]


def id_of(day, seq, sex="female", area="350203"):
    return make_id_number(area, day, seq, sex)


BIRTH = datetime.date(2014, 3, 9)
ID_A = id_of(BIRTH, 1)
ID_B = id_of(datetime.date(2012, 7, 1), 2, "male")


def to_csv(rows, encoding="utf-8", headers=HEADERS):
    lines = [",".join(headers)] + [",".join(row) for row in rows]
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def good_rows(village_code):
    return [
        ["林小雨", "女", ID_A, "2014-03-09", village_code, "留守儿童、低保/特困家庭儿童", "学习帮扶、心理疏导", "黄"]
        + ["林阿公", "祖父/外祖父", "13912345678", "是", "王芳", "母亲", "138 0000 1111", "否"],
        ["陈小海", "", ID_B, "", village_code, "流动儿童", "生活帮助", ""]
        + ["陈母", "母亲", "13600002222", "是"]
        + [""] * 4,
    ]


def import_csv(data, user):
    return run_import(ChildResource(user=user), CSV().create_dataset(data))


@pytest.mark.django_db
def test_csv_import_creates_children_with_guardians_categories_and_needs(siming_children_staff, siming_village):
    outcome = import_csv(to_csv(good_rows(siming_village.division_code)), siming_children_staff)
    assert outcome.errors == []
    assert (outcome.created, outcome.updated) == (2, 0)

    rain = Child.objects.get(id_number=ID_A)
    assert rain.village == siming_village
    assert sorted(rain.categories.values_list("code", flat=True)) == ["left_behind", "low_income"]
    assert sorted(rain.needs.values_list("code", flat=True)) == ["psychological", "study"]
    assert rain.risk_grade == "yellow" and rain.risk_changed_by == siming_children_staff
    assert list(rain.guardians.order_by("pk").values_list("name", "relation", "phone", "lives_with_child")) == [
        ("林阿公", "grandfather", "13912345678", True),
        ("王芳", "mother", "13800001111", False),
    ]
    # Sex and birth date left blank are read from the ID number.
    sea = Child.objects.get(id_number=ID_B)
    assert (sea.sex, sea.birth_date, sea.risk_grade) == ("male", datetime.date(2012, 7, 1), "green")


@pytest.mark.django_db
def test_reimport_updates_by_id_number_without_duplicates(siming_children_staff, siming_village):
    import_csv(to_csv(good_rows(siming_village.division_code)), siming_children_staff)
    rows = good_rows(siming_village.division_code)
    rows[0][0] = "林小雨 "
    rows[0][10] = "13900009999"  # 林阿公's new number
    rows[0][12:16] = ["林父", "父亲", "13700003333", "否"]  # a guardian not yet registered
    rows[0][5] = "孤儿"
    outcome = import_csv(to_csv(rows), siming_children_staff)
    assert outcome.errors == []
    assert (outcome.created, outcome.updated) == (0, 2)
    assert Child.objects.count() == 2
    rain = Child.objects.get(id_number=ID_A)
    guardians = dict(rain.guardians.values_list("name", "phone"))
    assert guardians == {"林阿公": "13900009999", "王芳": "13800001111", "林父": "13700003333"}
    assert list(rain.categories.values_list("code", flat=True)) == ["orphan"]
    assert Guardian.objects.count() == 4


@pytest.mark.django_db
def test_gbk_encoded_csv_is_imported(siming_children_staff, siming_village):
    outcome = import_csv(to_csv(good_rows(siming_village.division_code), encoding="gbk"), siming_children_staff)
    assert outcome.errors == []
    assert Child.objects.get(id_number=ID_A).name == "林小雨"
    assert Guardian.objects.filter(name="林阿公").exists()


@pytest.mark.django_db
def test_bad_rows_write_nothing_and_every_error_is_reported_by_row_and_column(
    siming_children_staff, siming_village, haicang_village, haicang_child
):
    code = siming_village.division_code
    wrong_check = ID_A[:-1] + ("0" if ID_A[-1] != "0" else "1")
    rows = good_rows(code)  # rows 2 and 3 are fine
    blank_guardian = [""] * 8
    rows += [
        ["错位", "女", wrong_check, "", code, "", "", ""] + blank_guardian,  # 4: check digit
        ["不符", "男", id_of(BIRTH, 5), "2014-03-10", code, "", "", ""] + blank_guardian,  # 5: sex + date
        ["外区", "女", id_of(BIRTH, 6), "", haicang_village.division_code, "", "", ""] + blank_guardian,  # 6
        ["街道", "女", id_of(BIRTH, 7), "", siming_village.parent.division_code, "", "", ""] + blank_guardian,  # 7
        ["重复", "女", ID_A, "", code, "", "", ""] + blank_guardian,  # 8: same ID as row 2
        ["监护", "女", id_of(BIRTH, 8), "", code, "困难", "", "紫"]  # 9: category, risk, guardian
        + ["张三", "", "12345", "也许", "", "母亲", "", ""],
        ["他区", "女", haicang_child.id_number, "", code, "", "", ""] + blank_guardian,  # 10: registered elsewhere
    ]
    before = (Child.objects.count(), Guardian.objects.count())
    outcome = import_csv(to_csv(rows), siming_children_staff)
    assert (Child.objects.count(), Guardian.objects.count()) == before
    found = [(e.row, e.column) for e in outcome.errors]
    assert found == sorted(
        [
            (4, "C「身份证号码」"),
            (5, "B「性别」"),
            (5, "D「出生日期」"),
            (6, "E「所在村(居)代码」"),
            (7, "E「所在村(居)代码」"),
            (8, "C「身份证号码」"),
            (9, "F「困境类别」"),
            (9, "H「风险等级」"),
            (9, "J「监护人1关系」"),
            (9, "K「监护人1电话」"),
            (9, "L「监护人1是否同住」"),
            (9, "M「监护人2姓名」"),
            (10, "C「身份证号码」"),
        ]
    ), outcome.errors
    messages = {(e.row, e.column): e.message for e in outcome.errors}
    assert "校验位错误" in messages[(4, "C「身份证号码」")]
    assert "不在您的管辖范围内" in messages[(6, "E「所在村(居)代码」")]
    assert "村(居)级单位" in messages[(7, "E「所在村(居)代码」")]
    assert "第 2 行" in messages[(8, "C「身份证号码」")]
    assert "其他辖区" in messages[(10, "C「身份证号码」")]


@pytest.mark.django_db
def test_missing_required_column_is_one_clear_error(siming_children_staff):
    outcome = import_csv(to_csv([["林小雨", ID_A]], headers=["姓名", "身份证号码"]), siming_children_staff)
    assert [e.message for e in outcome.errors] == ["缺少列:所在村(居)代码。请使用导出的表格作为模板。"]


def xlsx_bytes(build):
    book = openpyxl.Workbook()
    build(book)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


@pytest.mark.django_db
def test_xlsx_with_an_extra_sheet_imports_the_first(siming_children_staff, siming_village):
    def build(book):
        sheet = book.active
        sheet.append(HEADERS)
        for row in good_rows(siming_village.division_code):
            sheet.append(row)
        book.create_sheet("填写说明").append(["身份证号码请设为文本格式"])

    dataset = read_sheet(xlsx_bytes(build), "children.xlsx")
    outcome = run_import(ChildResource(user=siming_children_staff), dataset)
    assert outcome.errors == []
    assert Child.objects.count() == 2


@pytest.mark.django_db
def test_xlsx_with_merged_header_cells_is_a_clear_error_not_a_crash(client, siming_children_staff, siming_village):
    def build(book):
        sheet = book.active
        sheet.append(["儿童信息", None, None, None, None])
        sheet.merge_cells("A1:E1")
        sheet.append(["姓名", "性别", "身份证号码", "出生日期", "所在村(居)代码"])
        sheet.append(["林小雨", "女", ID_A, "2014-03-09", siming_village.division_code])

    data = xlsx_bytes(build)
    with pytest.raises(SheetFileError, match="B 列的表头为空"):
        read_sheet(data, "merged.xlsx")

    # Through the admin import page: a form error, nothing imported.
    client.force_login(siming_children_staff)
    upload = io.BytesIO(data)
    upload.name = "merged.xlsx"
    response = client.post(
        reverse("admin:children_child_import"), {"resource": "0", "format": "0", "import_file": upload}
    )
    assert response.status_code == 200
    assert "表头为空" in response.content.decode()
    assert not Child.objects.exists()


@pytest.mark.django_db
def test_import_through_the_admin_lists_errors_and_writes_nothing(client, siming_children_staff, siming_village):
    rows = good_rows(siming_village.division_code)
    rows[1][2] = ID_B[:-1] + ("0" if ID_B[-1] != "0" else "1")
    upload = io.BytesIO(to_csv(rows))
    upload.name = "children.csv"
    client.force_login(siming_children_staff)
    response = client.post(
        reverse("admin:children_child_import"), {"resource": "0", "format": "1", "import_file": upload}
    )
    assert response.status_code == 200
    content = response.content.decode()
    assert "第 3 行,C「身份证号码」 列" in content
    assert not Child.objects.exists()


# --- export ----------------------------------------------------------------------------


def exported(user):
    return ChildResource(user=user).export()


@pytest.mark.django_db
def test_export_masks_identity_without_the_permission_and_is_scoped(siming_children_staff, siming_child, haicang_child):
    GuardianFactory(child=siming_child, phone="13912345678")
    rows = exported(siming_children_staff).dict
    assert [r["姓名"] for r in rows] == [siming_child.name]
    assert rows[0]["身份证号码"] == mask_id_number(siming_child.id_number)
    assert rows[0]["监护人1电话"] == mask_phone("13912345678")


@pytest.mark.django_db
def test_export_shows_full_identity_with_the_permission(siming_identity_staff, siming_child):
    GuardianFactory(child=siming_child, phone="13912345678", relation="grandmother")
    siming_child.needs.set(["study", "legal"])
    row = exported(siming_identity_staff).dict[0]
    assert row["身份证号码"] == siming_child.id_number
    assert row["监护人1电话"] == "13912345678"
    assert row["监护人1关系"] == "祖母/外祖母"
    assert set(row["帮扶需求"].split("、")) == {"学习帮扶", "法律帮扶"}


@pytest.mark.django_db
def test_export_neutralises_formulas_and_csv_has_bom(siming_identity_staff, siming_village):
    ChildFactory(village=siming_village, name="林小雨", address='=HYPERLINK("http://x","点我")')
    dataset = exported(siming_identity_staff)
    assert dataset.dict[0]["居住地址"].startswith("'=")
    data = CSV().export_data(dataset)
    assert data.startswith("\ufeff".encode())


@pytest.mark.django_db
def test_exported_sheet_reimports_unchanged_for_a_permitted_user(siming_identity_staff, siming_village):
    import_csv(to_csv(good_rows(siming_village.division_code)), siming_identity_staff)
    data = CSV().export_data(exported(siming_identity_staff))
    outcome = run_import(ChildResource(user=siming_identity_staff), CSV().create_dataset(data))
    assert outcome.errors == []
    assert (outcome.created, outcome.updated) == (0, 2)
    assert Guardian.objects.count() == 3


def export_post(fmt="1"):
    fields = ChildResource().get_export_order()
    return {"format": fmt, "resource": "0", **{f"childresource_{name}": "on" for name in fields}}


@pytest.mark.django_db
def test_admin_export_is_scoped_and_masked(client, siming_children_staff, siming_child, haicang_child):
    client.force_login(siming_children_staff)
    response = client.post(reverse("admin:children_child_export"), export_post())
    assert response.status_code == 200
    text = response.content.decode("utf-8-sig")
    assert siming_child.name in text and haicang_child.name not in text
    assert mask_id_number(siming_child.id_number) in text
    assert siming_child.id_number not in text


@pytest.mark.django_db
def test_admin_export_shows_full_numbers_with_the_permission(client, siming_identity_staff, siming_child):
    client.force_login(siming_identity_staff)
    response = client.post(reverse("admin:children_child_export"), export_post())
    assert siming_child.id_number in response.content.decode("utf-8-sig")
