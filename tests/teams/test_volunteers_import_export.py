"""Spreadsheets of volunteers, teams and memberships: import, re-import, bad sheets, export."""

import datetime
import io

import openpyxl
import pytest
from django.urls import reverse

from aixinmama.identity import make_id_number, mask_id_number
from aixinmama.resources import CSV, XLSX, read_sheet, run_import
from teams.models import Team, TeamMembership, Volunteer, VolunteerStatusChange
from teams.resources import TeamMembershipResource, TeamResource, VolunteerResource

from ..conftest import make_staff
from .conftest import TeamFactory, VolunteerFactory

HEADERS = [
    "姓名",
    "性别",
    "身份证号码",
    "手机号码",
    "所属妇联",
    "居住地址",
    "工作单位或职业",
    "来源",
    "特长领域",
    "可结对儿童数",
    "备注",
]


def _id(n, sex="female", area="350203"):
    return make_id_number(area, datetime.date(1980, 1, 1) + datetime.timedelta(days=n), 100 + n, sex)


@pytest.fixture
def siming_user(siming):
    return make_staff(
        siming,
        "siming-io",
        permissions=["teams.view_volunteer", "teams.add_volunteer", "teams.change_volunteer", "teams.view_team"],
    )


@pytest.fixture
def rows(siming_village):
    code = siming_village.division_code
    return [
        ["林美华", "女", _id(1), "13906001111", code, "鼓浪屿", "教师", "妇联执委、最美家庭", "文化帮扶", 2, ""],
        ["陈丽珍", "", _id(2), "139 0600 2222", f"思明区/{siming_village.parent.name}/{siming_village.name}",
         "", "", "", "", "", ""],
        ["黄建华", "男", _id(3, "male"), "+8613906003333", code, "", "律师", "其他", "法律帮扶、心理疏导", 1, "新"],
    ]  # fmt: skip


def xlsx_bytes(headers, data):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(headers)
    for row in data:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def csv_bytes(headers, data):
    import csv

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(headers)
    writer.writerows([["" if v is None else v for v in row] for row in data])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def do_import(user, data, kind="xlsx", headers=HEADERS, resource_class=VolunteerResource):
    content = xlsx_bytes(headers, data) if kind == "xlsx" else csv_bytes(headers, data)
    dataset = read_sheet(content, f"sheet.{kind}")
    return run_import(resource_class(user=user), dataset)


@pytest.mark.parametrize("kind", ["xlsx", "csv"])
def test_import_happy_path(db, siming_user, rows, siming_village, kind):
    outcome = do_import(siming_user, rows, kind)
    assert outcome.ok, outcome.errors
    assert (outcome.created, outcome.updated) == (3, 0)
    lin = Volunteer.objects.get(id_number=_id(1))
    assert (lin.name, lin.sex, lin.federation, lin.capacity, lin.status) == (
        "林美华",
        "female",
        siming_village,
        2,
        "applied",
    )
    assert lin.birth_date == datetime.date(1980, 1, 2)
    assert {t.code for t in lin.source_tags.all()} == {"executive", "model_family"}
    assert [s.code for s in lin.skills.all()] == ["culture"]
    chen = Volunteer.objects.get(id_number=_id(2))
    assert chen.sex == "female"  # read from the ID number
    assert chen.mobile == "13906002222"
    assert chen.federation == siming_village  # by name path
    huang = Volunteer.objects.get(id_number=_id(3, "male"))
    assert huang.notes == "新"
    assert {s.code for s in huang.skills.all()} == {"legal_aid", "counselling"}
    assert (
        VolunteerStatusChange.objects.filter(to_status="applied", note="表格导入", changed_by=siming_user).count() == 3
    )


def test_reimport_updates_without_duplicates(db, siming_user, rows):
    assert do_import(siming_user, rows).ok
    rows[0][1:4] = ["女", _id(1).lower(), "13906009999"]
    rows[0][7] = "三八红旗手"
    outcome = do_import(siming_user, rows)
    assert outcome.ok, outcome.errors
    assert (outcome.created, outcome.updated) == (0, 3)
    assert Volunteer.objects.count() == 3
    lin = Volunteer.objects.get(id_number=_id(1))
    assert lin.mobile == "13906009999"
    assert [t.code for t in lin.source_tags.all()] == ["red_banner"]
    assert [s.code for s in lin.skills.all()] == ["culture"]
    assert VolunteerStatusChange.objects.count() == 3  # history opened once


BAD_CASES = {
    "bad check digit": (2, "身份证号码", lambda r: r[2][:17] + ("0" if r[2][17] != "0" else "1"), "校验位错误"),
    "unknown unit": (4, "所属妇联", lambda r: "350299999999", "不存在"),
    "bad phone": (3, "手机号码", lambda r: "1390600", "手机号码应为"),
    "impossible date in ID": (2, "身份证号码", lambda r: "350203198002300011", "不是有效日期"),
}


@pytest.mark.parametrize("case", BAD_CASES)
@pytest.mark.parametrize("kind", ["xlsx", "csv"])
def test_bad_sheet_writes_nothing_and_reports_row_and_column(db, siming_user, rows, case, kind):
    column, header, make_bad, message = BAD_CASES[case]
    rows[1][column] = make_bad(rows[1])
    rows[2][column] = make_bad(rows[2])
    outcome = do_import(siming_user, rows, kind)
    assert not outcome.ok
    assert not Volunteer.objects.exists()
    letter = "ABCDEFGHIJK"[column]
    reported = {(e.row, e.column) for e in outcome.errors if message in e.message}
    assert reported == {(3, f"{letter}「{header}」"), (4, f"{letter}「{header}」")}, outcome.errors


def test_duplicate_id_inside_sheet(db, siming_user, rows):
    rows.append([*rows[0]])
    rows[3][0] = "重复的人"
    outcome = do_import(siming_user, rows)
    assert not outcome.ok
    assert not Volunteer.objects.exists()
    assert [(e.row, e.column) for e in outcome.errors] == [(5, "C「身份证号码」")]
    assert "与第 2 行重复" in outcome.errors[0].message


def test_every_error_of_a_sheet_is_reported(db, siming_user, rows):
    rows[0][3] = "12345"
    rows[1][4] = "不存在的社区"
    rows[2][1] = "女"  # sex disagrees with a male ID number
    outcome = do_import(siming_user, rows)
    assert {(e.row, e.column[0]) for e in outcome.errors} == {(2, "D"), (3, "E"), (4, "B")}
    assert not Volunteer.objects.exists()


def test_import_into_another_district_refused(db, siming_user, rows, haicang_village):
    rows[0][4] = haicang_village.division_code
    outcome = do_import(siming_user, rows)
    assert [(e.row, e.column[0]) for e in outcome.errors] == [(2, "E")]
    assert "不在您的管辖范围内" in outcome.errors[0].message
    assert not Volunteer.objects.exists()


def test_cannot_update_volunteer_registered_elsewhere(db, siming_user, rows, haicang_village):
    VolunteerFactory(federation=haicang_village, id_number=_id(1))
    outcome = do_import(siming_user, rows)
    assert not outcome.ok
    assert any(e.row == 2 and "其他辖区" in e.message for e in outcome.errors)
    assert Volunteer.objects.count() == 1


# --- export ---------------------------------------------------------------------------


def test_export_is_scoped_masked_and_neutralised(db, siming_user, siming_village, haicang_village):
    mine = VolunteerFactory(federation=siming_village, name='=HYPERLINK("http://x")', employer="@risky")
    VolunteerFactory(federation=haicang_village, name="海沧妈妈")
    dataset = VolunteerResource(user=siming_user).export()
    assert len(dataset) == 1
    row = dict(zip(dataset.headers, dataset[0], strict=True))
    assert row["姓名"] == '\'=HYPERLINK("http://x")'
    assert row["工作单位或职业"] == "'@risky"
    assert row["身份证号码"] == mask_id_number(mine.id_number)
    assert row["状态"] == "在岗"
    # CSV for Excel: UTF-8 with BOM.
    assert CSV().export_data(dataset).startswith("\ufeff".encode())


def test_export_full_id_with_permission(db, siming, siming_village):
    supervisor = make_staff(siming, "siming-sup", permissions=["teams.view_volunteer", "teams.view_full_identity"])
    mine = VolunteerFactory(federation=siming_village)
    dataset = VolunteerResource(user=supervisor).export()
    assert dataset["身份证号码"] == [mine.id_number]


def test_admin_export_is_scoped_and_masked(client, siming_user, siming_village, haicang_village):
    mine = VolunteerFactory(federation=siming_village, name="思明妈妈")
    theirs = VolunteerFactory(federation=haicang_village, name="海沧妈妈")
    client.force_login(siming_user)
    url = reverse("admin:teams_volunteer_export")
    assert client.get(url).status_code == 200
    fields = {f"volunteerresource_{name}": "on" for name in VolunteerResource().get_export_order()}
    response = client.post(url, {"format": 1, "resource": 0, **fields})
    assert response.status_code == 200, response.content[:500]
    text = response.content.decode("utf-8-sig")
    assert "思明妈妈" in text and mask_id_number(mine.id_number) in text
    assert mine.id_number not in text
    assert "海沧妈妈" not in text and theirs.id_number[:6] + "*" not in text


def test_admin_import_page_reports_errors(client, siming_user, rows):
    rows[0][2] = "123"
    client.force_login(siming_user)
    content = xlsx_bytes(HEADERS, rows)
    upload = io.BytesIO(content)
    upload.name = "volunteers.xlsx"
    response = client.post(reverse("admin:teams_volunteer_import"), {"format": 0, "resource": 0, "import_file": upload})
    assert response.status_code == 200
    html = response.content.decode()
    assert "未导入任何数据" in html
    assert "第 2 行,C「身份证号码」 列" in html
    assert not Volunteer.objects.exists()


# --- teams and memberships --------------------------------------------------------------

TEAM_HEADERS = [
    "队伍名称",
    "队伍类型",
    "特色类别",
    "所属妇联",
    "依托单位",
    "队长身份证号码",
    "成立日期",
    "可结对儿童数",
    "简介",
]
MEMBER_HEADERS = ["队伍所属妇联", "队伍名称", "身份证号码", "角色", "加入日期", "退出日期"]


@pytest.fixture
def team_user(siming):
    return make_staff(siming, "siming-teams", permissions=["teams.view_team", "teams.add_team", "teams.change_team"])


def test_team_import_and_reimport(db, team_user, siming_village):
    leader = VolunteerFactory(federation=siming_village)
    code = siming_village.division_code
    data = [
        ["故事妈妈队", "特色队伍", "文化帮扶", code, "区图书馆", leader.id_number, "2012/4/23", 10, "读书"],
        ["社区队", "社区(村居)队伍", "", code, "", "", "", "", ""],
    ]
    outcome = do_import(team_user, data, headers=TEAM_HEADERS, resource_class=TeamResource)
    assert outcome.ok, outcome.errors
    team = Team.objects.get(name="故事妈妈队")
    assert (team.category, team.leader, team.founded_on, team.capacity) == (
        "culture",
        leader,
        datetime.date(2012, 4, 23),
        10,
    )
    data[0][7] = 12
    outcome = do_import(team_user, data, kind="csv", headers=TEAM_HEADERS, resource_class=TeamResource)
    assert outcome.ok, outcome.errors
    assert (outcome.created, outcome.updated) == (0, 2)
    assert Team.objects.count() == 2
    assert Team.objects.get(name="故事妈妈队").capacity == 12


def test_team_sheet_errors(db, team_user, siming_village, haicang_village):
    code = siming_village.division_code
    outsider = VolunteerFactory(federation=haicang_village)
    data = [
        ["无类别队", "特色队伍", "", code, "", "", "", "", ""],
        ["队", "特色队伍", "文化帮扶", code, "", outsider.id_number, "2024/2/30", "", ""],
        ["队", "特色队伍", "文化帮扶", code, "", "", "", "", ""],
    ]
    outcome = do_import(team_user, data, headers=TEAM_HEADERS, resource_class=TeamResource)
    got = {(e.row, e.column[:1]) for e in outcome.errors}
    assert (2, "C") in got  # category required for a specialty team
    assert (3, "F") in got  # leader outside the jurisdiction
    assert (3, "G") in got  # 30 February
    assert any(e.row == 4 and "与第 3 行重复" in e.message for e in outcome.errors)
    assert not Team.objects.exists()


def test_membership_import_reimport_and_export(db, siming, siming_village, haicang_village):
    user = make_staff(siming, "siming-members", permissions=["teams.view_teammembership", "teams.add_teammembership"])
    team = TeamFactory(federation=siming_village, name="爱心队")
    volunteers = VolunteerFactory.create_batch(2, federation=siming_village)
    code = siming_village.division_code
    data = [[code, "爱心队", v.id_number, "队员", "2024-03-08", ""] for v in volunteers]
    data[0][3] = "队长"
    outcome = do_import(user, data, headers=MEMBER_HEADERS, resource_class=TeamMembershipResource)
    assert outcome.ok, outcome.errors
    assert TeamMembership.objects.filter(team=team).count() == 2
    data[1][5] = "2024-12-31"
    outcome = do_import(user, data, headers=MEMBER_HEADERS, resource_class=TeamMembershipResource)
    assert outcome.ok and (outcome.created, outcome.updated) == (0, 2)
    assert TeamMembership.objects.filter(team=team, left_on=datetime.date(2024, 12, 31)).count() == 1

    other_team = TeamFactory(federation=haicang_village, name="海沧队")
    TeamMembership.objects.create(team=other_team, volunteer=VolunteerFactory(federation=haicang_village))
    dataset = TeamMembershipResource(user=user).export()
    assert len(dataset) == 2
    assert set(dataset["身份证号码"]) == {mask_id_number(v.id_number) for v in volunteers}


def test_membership_sheet_errors(db, siming, siming_village, haicang_village):
    user = make_staff(siming, "siming-members", permissions=["teams.view_teammembership"])
    TeamFactory(federation=siming_village, name="爱心队")
    TeamFactory(federation=haicang_village, name="海沧队")
    mine = VolunteerFactory(federation=siming_village)
    code = siming_village.division_code
    data = [
        [haicang_village.division_code, "海沧队", mine.id_number, "队员", "2024-03-08", ""],
        [code, "爱心队", mine.id_number, "队员", "2024-13-01", ""],
        [code, "爱心队", mine.id_number, "队员", "2024-03-08", "2024-01-01"],
    ]
    outcome = do_import(user, data, headers=MEMBER_HEADERS, resource_class=TeamMembershipResource)
    got = {(e.row, e.column[:1]) for e in outcome.errors}
    assert (2, "B") in got  # team in another district
    assert (3, "E") in got  # month 13
    assert (4, "F") in got  # left before joining
    assert not TeamMembership.objects.exists()


def test_xlsx_export_round_trip(db, siming, siming_village):
    supervisor = make_staff(siming, "siming-sup", permissions=["teams.view_volunteer", "teams.view_full_identity"])
    VolunteerFactory.create_batch(3, federation=siming_village)
    content = XLSX().export_data(VolunteerResource(user=supervisor).export())
    dataset = read_sheet(content, "export.xlsx")
    outcome = run_import(VolunteerResource(user=supervisor), dataset)
    assert outcome.ok, outcome.errors
    assert (outcome.created, outcome.updated) == (0, 3)


def test_blank_unit_is_reported_on_its_row(siming_user, rows):
    rows[1][4] = ""
    outcome = do_import(siming_user, rows)
    assert not Volunteer.objects.exists()
    assert [(e.row, e.column) for e in outcome.errors] == [(3, "E「所属妇联」")]
