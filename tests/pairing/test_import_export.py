"""Pairings, activity logs and donations in spreadsheets: import through the services, all-or-nothing
with row/column errors, idempotent re-import, jurisdiction, scoped and masked export."""

import csv
import datetime
import io
from decimal import Decimal

import openpyxl
import pytest
from django.urls import reverse
from django.utils import timezone

from aixinmama.identity import make_id_number, mask_id_number
from aixinmama.resources import CSV, read_sheet, run_import
from pairing.models import ActivityLog, Donation, Donor, Pairing, PairingStatus, ReviewStatus
from pairing.resources import ActivityLogResource, DonationResource, PairingResource
from pairing.services import create_pairing, end_pairing, record_activity
from teams.models import TeamKind
from tests.pairing.conftest import ChildFactory, TeamFactory, VolunteerFactory, eligible_volunteer

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()
LAST_MONTH = TODAY - datetime.timedelta(days=30)
LAST_WEEK = TODAY - datetime.timedelta(days=7)
TOMORROW = TODAY + datetime.timedelta(days=1)
IDENTITY = ["children.view_full_identity", "teams.view_full_identity"]
IMPORT_PERMS = ["pairing.add_pairing", "pairing.add_activitylog", "pairing.add_donation"]


def xlsx_bytes(headers, rows):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def csv_bytes(headers, rows):
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(headers)
    writer.writerows([["" if v is None else v for v in row] for row in rows])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def do_import(resource_class, user, headers, rows, kind="xlsx"):
    content = xlsx_bytes(headers, rows) if kind == "xlsx" else csv_bytes(headers, rows)
    return run_import(resource_class(user=user), read_sheet(content, f"sheet.{kind}"))


def where(outcome):
    """(row, column) of every error, in order."""
    return [(e.row, e.column) for e in outcome.errors]


def message(outcome, row, column_prefix=""):
    return " ".join(e.message for e in outcome.errors if e.row == row and e.column.startswith(column_prefix))


@pytest.fixture
def siming_user(siming, pairing_staff_factory):
    return pairing_staff_factory(siming, "siming-io", extra=IMPORT_PERMS)


@pytest.fixture
def siming_identity_user(siming, pairing_staff_factory):
    return pairing_staff_factory(siming, "siming-io-full", extra=[*IMPORT_PERMS, *IDENTITY])


@pytest.fixture
def city_user(xiamen, pairing_staff_factory):
    return pairing_staff_factory(xiamen, "city-io", extra=IMPORT_PERMS)


# =======================================================================================
# Pairings

PAIRING_HEADERS = ["儿童身份证号码", "爱心妈妈身份证号码", "队伍所属妇联", "队伍名称", "结对日期", "跨区结对原因"]


@pytest.fixture
def world(places, community_team):
    """Siming children and partners in village a1/a2, a Haicang child and volunteer."""
    return {
        "c1": ChildFactory(village=places["a1"], name="林小雨"),
        "c2": ChildFactory(village=places["a2"], name="陈小海"),
        "c3": ChildFactory(village=places["b1"], name="黄小花"),
        "h_child": ChildFactory(village=places["h1"], name="海沧儿童"),
        "v1": eligible_volunteer(places["a1"], name="林美华", capacity=1),
        "v2": eligible_volunteer(places["a2"], name="陈丽珍", capacity=3),
        "h_volunteer": eligible_volunteer(places["h1"], name="海沧妈妈"),
        "team": community_team,
    }


def pairing_rows(world, places):
    a1 = places["a1"]
    return [
        [world["c1"].id_number, world["v1"].id_number, "", "", LAST_MONTH.isoformat(), ""],
        [world["c2"].id_number, "", a1.division_code, world["team"].name, LAST_MONTH.strftime("%Y/%m/%d"), ""],
        [world["c3"].id_number, "", f"{a1.parent.name}/{a1.name}", world["team"].name, "", ""],
    ]


@pytest.mark.parametrize("kind", ["xlsx", "csv"])
def test_pairings_import_through_the_service(siming_user, world, places, kind):
    rows = pairing_rows(world, places)
    rows[2][4] = LAST_WEEK.strftime("%Y年%m月%d日")
    outcome = do_import(PairingResource, siming_user, PAIRING_HEADERS, rows, kind)
    assert outcome.errors == []
    assert (outcome.created, outcome.updated) == (3, 0)
    first = Pairing.objects.get(child=world["c1"])
    assert (first.volunteer, first.team, first.start_date, first.status) == (
        world["v1"],
        None,
        LAST_MONTH,
        PairingStatus.ACTIVE,
    )
    assert first.created_by == siming_user
    assert Pairing.objects.get(child=world["c2"]).team == world["team"]  # team by unit code + name
    assert Pairing.objects.get(child=world["c3"]).team == world["team"]  # team by name path
    assert Pairing.objects.get(child=world["c3"]).start_date == LAST_WEEK


def test_pairing_reimport_is_idempotent(siming_user, world, places):
    rows = pairing_rows(world, places)
    rows[2][4] = LAST_WEEK.isoformat()
    assert do_import(PairingResource, siming_user, PAIRING_HEADERS, rows).ok
    again = do_import(PairingResource, siming_user, PAIRING_HEADERS, rows, "csv")
    assert again.errors == []
    assert (again.created, again.updated) == (0, 0)
    assert Pairing.objects.count() == 3


def test_exported_pairings_reimport_unchanged_and_ended_rows_are_skipped(siming_identity_user, world, city_admin):
    kept = create_pairing(child=world["c1"], volunteer=world["v1"], by=city_admin, start_date=LAST_MONTH)
    ended = create_pairing(child=world["c2"], volunteer=world["v2"], by=city_admin, start_date=LAST_MONTH)
    end_pairing(pairing=ended, reason="family_request", by=city_admin)
    data = CSV().export_data(PairingResource(user=siming_identity_user).export())
    outcome = run_import(PairingResource(user=siming_identity_user), CSV().create_dataset(data))
    assert outcome.errors == []
    assert outcome.created == 0
    assert list(Pairing.objects.order_by("pk")) == [kept, ended]
    assert Pairing.objects.get(pk=ended.pk).status == PairingStatus.ENDED


def test_pairing_sheet_with_bad_rows_writes_nothing_and_names_row_and_column(siming_user, world, places):
    unchecked = VolunteerFactory(federation=places["a1"], name="未审查")  # no safeguarding check
    unknown_child = make_id_number("350203", datetime.date(2015, 1, 1), 901, "female")
    c4 = ChildFactory(village=places["a1"])
    rows = [
        [world["c1"].id_number, world["v1"].id_number, "", "", LAST_MONTH.isoformat(), ""],  # 2 good
        [world["c2"].id_number, unchecked.id_number, "", "", LAST_MONTH.isoformat(), ""],  # 3 ineligible
        [c4.id_number, world["v1"].id_number, "", "", LAST_MONTH.isoformat(), ""],  # 4 over capacity (1)
        [unknown_child, world["v2"].id_number, "", "", LAST_MONTH.isoformat(), ""],  # 5 unknown child
        [world["c3"].id_number, world["v2"].id_number, "", "", TOMORROW.isoformat(), ""],  # 6 future date
        [world["c1"].id_number, world["v1"].id_number, "", "", LAST_MONTH.isoformat(), ""],  # 7 duplicate of 2
        [world["c3"].id_number, "", "", "", LAST_MONTH.isoformat(), ""],  # 8 nobody
        [world["c3"].id_number, "", places["a1"].division_code, "没有这个队", LAST_MONTH.isoformat(), ""],  # 9
    ]
    outcome = do_import(PairingResource, siming_user, PAIRING_HEADERS, rows)
    assert where(outcome) == [
        (3, "B「爱心妈妈身份证号码」"),
        (4, "B「爱心妈妈身份证号码」"),
        (5, "A「儿童身份证号码」"),
        (6, "E「结对日期」"),
        (7, ""),
        (8, "B「爱心妈妈身份证号码」"),
        (9, "D「队伍名称」"),
    ]
    assert "未审查目前不能结对" in message(outcome, 3)
    assert "达到可结对人数上限(1 名)" in message(outcome, 4)
    assert "未登记,或不在您的管辖范围内" in message(outcome, 5)
    assert "结对日期不能晚于今天" in message(outcome, 6)
    assert "与第 2 行重复" in message(outcome, 7)
    assert "二者选一" in message(outcome, 8)
    assert "没有名为“没有这个队”的队伍" in message(outcome, 9)
    assert not Pairing.objects.exists()


def test_missing_column_is_one_error_for_the_file(siming_user, world):
    headers = [h for h in PAIRING_HEADERS if h != "结对日期"]
    rows = [[world["c1"].id_number, world["v1"].id_number, "", "", ""]]
    outcome = do_import(PairingResource, siming_user, headers, rows)
    assert [(e.row, e.message) for e in outcome.errors] == [(0, "缺少列:结对日期。请使用导出的表格作为模板。")]
    assert not Pairing.objects.exists()


def test_siming_coordinator_cannot_import_a_pairing_for_a_haicang_child(siming_user, world):
    rows = [
        [world["h_child"].id_number, world["v1"].id_number, "", "", LAST_MONTH.isoformat(), ""],
        [world["c1"].id_number, world["h_volunteer"].id_number, "", "", LAST_MONTH.isoformat(), ""],
    ]
    outcome = do_import(PairingResource, siming_user, PAIRING_HEADERS, rows)
    assert where(outcome) == [(2, "A「儿童身份证号码」"), (3, "B「爱心妈妈身份证号码」")]
    assert mask_id_number(world["h_child"].id_number) in message(outcome, 2)
    assert "不在您的管辖范围内" in message(outcome, 3)
    assert not Pairing.objects.exists()


def test_cross_district_pairing_needs_a_city_user_and_a_reason(city_user, world):
    rows = [[world["h_child"].id_number, world["v1"].id_number, "", "", LAST_MONTH.isoformat(), ""]]
    outcome = do_import(PairingResource, city_user, PAIRING_HEADERS, rows)
    assert where(outcome) == [(2, "F「跨区结对原因」")]
    assert "跨区结对须填写原因" in message(outcome, 2)
    assert not Pairing.objects.exists()
    rows[0][5] = "母亲工作调动,孩子随迁"
    assert do_import(PairingResource, city_user, PAIRING_HEADERS, rows).ok
    assert Pairing.objects.get().reason == "母亲工作调动,孩子随迁"


def test_a_city_level_specialty_team_can_be_named_by_a_district_coordinator(siming_user, world, xiamen):
    city_team = TeamFactory(federation=xiamen, kind=TeamKind.SPECIALTY, name="市法律帮扶队", capacity=5)
    rows = [[world["c1"].id_number, "", "厦门市", city_team.name, LAST_MONTH.isoformat(), ""]]
    outcome = do_import(PairingResource, siming_user, PAIRING_HEADERS, rows)
    assert outcome.errors == []
    assert Pairing.objects.get().team == city_team


def test_pairing_export_is_scoped_and_masked(siming_user, siming_identity_user, world, city_admin):
    create_pairing(child=world["c1"], volunteer=world["v1"], by=city_admin, start_date=LAST_MONTH)
    create_pairing(child=world["h_child"], volunteer=world["h_volunteer"], by=city_admin, start_date=LAST_MONTH)
    rows = PairingResource(user=siming_user).export().dict
    assert [r["儿童姓名"] for r in rows] == ["林小雨"]
    assert rows[0]["儿童身份证号码"] == mask_id_number(world["c1"].id_number)
    assert rows[0]["爱心妈妈身份证号码"] == mask_id_number(world["v1"].id_number)
    assert (rows[0]["爱心妈妈姓名"], rows[0]["状态"], rows[0]["结对日期"]) == (
        "林美华",
        "结对中",
        LAST_MONTH.isoformat(),
    )
    full = PairingResource(user=siming_identity_user).export().dict
    assert full[0]["儿童身份证号码"] == world["c1"].id_number
    assert full[0]["爱心妈妈身份证号码"] == world["v1"].id_number


def test_pairing_identity_permissions_are_separate(siming, pairing_staff_factory, world, city_admin):
    create_pairing(child=world["c1"], volunteer=world["v1"], by=city_admin, start_date=LAST_MONTH)
    children_only = pairing_staff_factory(siming, "children-only", extra=["children.view_full_identity"])
    row = PairingResource(user=children_only).export().dict[0]
    assert row["儿童身份证号码"] == world["c1"].id_number
    assert row["爱心妈妈身份证号码"] == mask_id_number(world["v1"].id_number)


def upload(name, content):
    file = io.BytesIO(content)
    file.name = name
    return file


def test_admin_pairing_import_lists_errors_and_writes_nothing(client, siming_user, world):
    rows = [[world["h_child"].id_number, world["v1"].id_number, "", "", LAST_MONTH.isoformat(), ""]]
    client.force_login(siming_user)
    response = client.post(
        reverse("admin:pairing_pairing_import"),
        {"resource": "0", "format": "0", "import_file": upload("p.xlsx", xlsx_bytes(PAIRING_HEADERS, rows))},
    )
    assert response.status_code == 200
    assert "第 2 行,A「儿童身份证号码」 列" in response.content.decode()
    assert not Pairing.objects.exists()


def test_admin_pairing_import_then_confirm(client, siming_user, world, places):
    client.force_login(siming_user)
    rows = pairing_rows(world, places)
    rows[2][4] = LAST_WEEK.isoformat()
    response = client.post(
        reverse("admin:pairing_pairing_import"),
        {"resource": "0", "format": "1", "import_file": upload("p.csv", csv_bytes(PAIRING_HEADERS, rows))},
    )
    assert response.status_code == 200
    assert not Pairing.objects.exists()  # the dry run wrote nothing
    confirm = response.context["confirm_form"].initial
    response = client.post(reverse("admin:pairing_pairing_process_import"), confirm)
    assert response.status_code == 302
    assert Pairing.objects.count() == 3


def test_admin_pairing_export_is_scoped_and_masked_and_changelist_keeps_its_links(
    client, siming_user, world, city_admin
):
    create_pairing(child=world["c1"], volunteer=world["v1"], by=city_admin, start_date=LAST_MONTH)
    create_pairing(child=world["h_child"], volunteer=world["h_volunteer"], by=city_admin, start_date=LAST_MONTH)
    client.force_login(siming_user)
    changelist = client.get(reverse("admin:pairing_pairing_changelist")).content.decode()
    assert reverse("admin:pairing_coverage") in changelist
    assert reverse("admin:pairing_pairing_import") in changelist
    fields = PairingResource().get_export_order()
    response = client.post(
        reverse("admin:pairing_pairing_export"),
        {"format": "1", "resource": "0", **{f"pairingresource_{name}": "on" for name in fields}},
    )
    assert response.status_code == 200
    text = response.content.decode("utf-8-sig")
    assert "林小雨" in text and "海沧儿童" not in text
    assert mask_id_number(world["c1"].id_number) in text and world["c1"].id_number not in text


# =======================================================================================
# Activity logs

LOG_HEADERS = [
    "爱心妈妈身份证号码",
    "队伍所属妇联",
    "队伍名称",
    "服务儿童身份证号码",
    "集体活动",
    "活动日期",
    "帮扶类型",
    "形式",
    "时长(分钟)",
    "服务儿童人次",
    "服务家长人次",
    "地点",
    "活动内容",
]


@pytest.fixture
def paired(world, city_admin):
    """c1 and c2 with volunteer v2; c3 with the a1 community team."""
    for child in (world["c1"], world["c2"]):
        create_pairing(child=child, volunteer=world["v2"], by=city_admin, start_date=LAST_MONTH)
    create_pairing(child=world["c3"], team=world["team"], by=city_admin, start_date=LAST_MONTH)
    return world


def log_rows(w, places):
    code = places["a1"].division_code
    ids = f"{w['c1'].id_number}、{w['c2'].id_number}"
    day = LAST_WEEK.isoformat()
    return [
        [w["v2"].id_number, "", "", ids, "", day, "家访", "线下", 90, "", 2, "家中", "了解学习情况"],
        ["", code, w["team"].name, w["c3"].id_number, "否", day, "学习帮扶", "线上", 45, 1, 0, "", "作业辅导"],
        ["", code, w["team"].name, "", "是", day, "节日慰问", "", "", 20, 10, "村委会", "中秋活动"],
    ]


@pytest.mark.parametrize("kind", ["xlsx", "csv"])
def test_activity_logs_import_through_the_service(siming_user, paired, places, kind):
    outcome = do_import(ActivityLogResource, siming_user, LOG_HEADERS, log_rows(paired, places), kind)
    assert outcome.errors == []
    assert outcome.created == 3
    visit = ActivityLog.objects.get(volunteer=paired["v2"])
    assert {p.child for p in visit.pairings.all()} == {paired["c1"], paired["c2"]}
    assert (visit.kind, visit.mode, visit.duration_minutes, visit.children_reached, visit.parents_reached) == (
        "home_visit",
        "offline",
        90,
        2,  # at least the children listed
        2,
    )
    assert (visit.status, visit.created_by, visit.federation) == (ReviewStatus.SUBMITTED, siming_user, places["a2"])
    study = ActivityLog.objects.get(team=paired["team"], is_group=False)
    assert (study.kind, study.mode, [p.child for p in study.pairings.all()]) == ("study", "online", [paired["c3"]])
    group = ActivityLog.objects.get(is_group=True)
    assert (group.kind, group.children_reached, group.duration_minutes, group.pairings.count()) == (
        "festival",
        20,
        60,
        0,
    )
    # The pairings' last activity date is kept by the service.
    assert set(Pairing.objects.values_list("last_activity_on", flat=True)) == {LAST_WEEK}


def test_activity_log_reimport_is_idempotent(siming_user, paired, places):
    assert do_import(ActivityLogResource, siming_user, LOG_HEADERS, log_rows(paired, places)).ok
    rows = log_rows(paired, places)
    rows[0][3] = f"{paired['c2'].id_number},{paired['c1'].id_number}"  # the same children in another order
    again = do_import(ActivityLogResource, siming_user, LOG_HEADERS, rows, "csv")
    assert again.errors == []
    assert again.created == 0
    assert ActivityLog.objects.count() == 3


def test_exported_activity_logs_reimport_unchanged(siming_identity_user, paired, city_admin):
    record_activity(by=city_admin, volunteer=paired["v2"], children=[paired["c1"]], date=LAST_WEEK, kind="home_visit")
    data = CSV().export_data(ActivityLogResource(user=siming_identity_user).export())
    outcome = run_import(ActivityLogResource(user=siming_identity_user), CSV().create_dataset(data))
    assert outcome.errors == []
    assert outcome.created == 0
    assert ActivityLog.objects.count() == 1


def test_activity_log_sheet_with_bad_rows_writes_nothing(siming_user, paired, places):
    w = paired
    day = LAST_WEEK.isoformat()
    rows = [
        [w["v2"].id_number, "", "", w["c1"].id_number, "", day, "家访", "", "", "", "", "", ""],  # 2 good
        [w["v2"].id_number, "", "", w["c1"].id_number, "", TOMORROW.isoformat(), "家访", "", "", "", "", "", ""],
        [w["v2"].id_number, "", "", w["c3"].id_number, "", day, "家访", "", "", "", "", "", ""],  # 4 not hers
        [w["v2"].id_number, "", "", w["c1"].id_number, "", day, "串门", "", "", "", "", "", ""],  # 5 bad type
        ["", "", "", w["c1"].id_number, "", day, "家访", "", "", "", "", "", ""],  # 6 nobody
        [w["v2"].id_number, "", "", w["h_child"].id_number, "", day, "家访", "", "", "", "", "", ""],  # 7 Haicang
        [w["v2"].id_number, "", "", "", "", day, "家访", "", "", "", "", "", ""],  # 8 no child, not group
        [w["v2"].id_number, "", "", w["c2"].id_number, "是", day, "家访", "半天", "", "", "", "", ""],  # 9
        [w["v2"].id_number, "", "", w["c2"].id_number, "", "2024-02-30", "家访", "", "", "", "", "", ""],  # 10
    ]
    outcome = do_import(ActivityLogResource, siming_user, LOG_HEADERS, rows)
    assert where(outcome) == [
        (3, "F「活动日期」"),
        (4, "D「服务儿童身份证号码」"),
        (5, "G「帮扶类型」"),
        (6, "A「爱心妈妈身份证号码」"),
        (7, "D「服务儿童身份证号码」"),
        (8, "D「服务儿童身份证号码」"),
        (9, "E「集体活动」"),
        (9, "H「形式」"),
        (10, "F「活动日期」"),
    ]
    assert "活动日期不能晚于今天" in message(outcome, 3)
    assert "黄小花没有与本人或本队伍的有效结对" in message(outcome, 4)
    assert "“串门”不是有效选项" in message(outcome, 5)
    assert "不在您的管辖范围内" in message(outcome, 7)
    assert "集体活动" in message(outcome, 8)
    assert "集体活动须由队伍填报" in message(outcome, 9, "E")
    assert "不存在" in message(outcome, 10)
    assert not ActivityLog.objects.exists()
    assert set(Pairing.objects.values_list("last_activity_on", flat=True)) == {None}


def test_activity_log_export_is_scoped_and_masked(siming_user, siming_identity_user, paired, city_admin, places):
    h_pairing = create_pairing(
        child=paired["h_child"], volunteer=paired["h_volunteer"], by=city_admin, start_date=LAST_MONTH
    )
    record_activity(
        by=city_admin, volunteer=paired["v2"], children=[paired["c1"], paired["c2"]], date=LAST_WEEK, kind="study"
    )
    record_activity(by=city_admin, volunteer=h_pairing.volunteer, pairings=[h_pairing], date=LAST_WEEK, kind="study")
    rows = ActivityLogResource(user=siming_user).export().dict
    assert len(rows) == 1
    ids = sorted([paired["c1"], paired["c2"]], key=lambda c: c.pk)
    assert rows[0]["服务儿童身份证号码"] == "、".join(mask_id_number(c.id_number) for c in ids)
    assert rows[0]["服务儿童姓名"] == "、".join(c.name for c in ids)
    assert rows[0]["爱心妈妈身份证号码"] == mask_id_number(paired["v2"].id_number)
    assert (rows[0]["帮扶类型"], rows[0]["审核状态"], rows[0]["所属妇联"]) == ("学习帮扶", "待审核", places["a2"].name)
    full = ActivityLogResource(user=siming_identity_user).export().dict[0]
    assert full["服务儿童身份证号码"] == "、".join(c.id_number for c in ids)


# =======================================================================================
# Donations

DONATION_HEADERS = [
    "捐赠方",
    "捐赠方类型",
    "捐赠日期",
    "捐赠类型",
    "金额(元)",
    "物资/服务内容",
    "数量",
    "折价(元)",
    "受赠方",
    "受赠妇联单位",
    "定向用途",
    "收据编号",
    "登记单位",
]


def donation_rows(places):
    day = LAST_WEEK.isoformat()
    return [
        ["厦门某科技公司", "企业", day, "资金", "100000", "", "", "", "市妇女儿童发展基金会", "",
         "困境儿童助学", "R-001", ""],
        ["厦门某科技公司", "企业", day, "物资", "", "爱心礼包", 50, "5,000.50", "", places["a1"].division_code,
         "爱心礼包", "R-002", ""],
        ["王女士", "个人", day, "资金", "¥1234.5", "", "", "", "市妇女儿童发展基金会", "", "", "", ""],
    ]  # fmt: skip


@pytest.mark.parametrize("kind", ["xlsx", "csv"])
def test_donations_import_through_the_service(siming_user, places, siming, kind):
    outcome = do_import(DonationResource, siming_user, DONATION_HEADERS, donation_rows(places), kind)
    assert outcome.errors == []
    assert outcome.created == 3
    cash = Donation.objects.get(receipt_number="R-001")
    assert cash.amount == Decimal("100000.00") and isinstance(cash.amount, Decimal)
    assert (cash.receiving_body, cash.federation, cash.created_by, cash.purpose) == (
        "市妇女儿童发展基金会",
        siming,  # blank 登记单位: the importer's unit
        siming_user,
        "困境儿童助学",
    )
    goods = Donation.objects.get(receipt_number="R-002")
    assert (goods.items, goods.quantity, goods.estimated_value, goods.receiving_unit) == (
        "爱心礼包",
        50,
        Decimal("5000.50"),
        places["a1"],
    )
    assert goods.donor == cash.donor  # one donor for both rows
    assert Donation.objects.get(receipt_number="").amount == Decimal("1234.50")
    assert sorted(Donor.objects.values_list("name", "kind")) == [
        ("厦门某科技公司", "enterprise"),
        ("王女士", "individual"),
    ]


def test_donation_reimport_is_idempotent(siming_user, places):
    assert do_import(DonationResource, siming_user, DONATION_HEADERS, donation_rows(places)).ok
    again = do_import(DonationResource, siming_user, DONATION_HEADERS, donation_rows(places), "csv")
    assert again.errors == []
    assert again.created == 0
    assert (Donation.objects.count(), Donor.objects.count()) == (3, 2)


def test_exported_donations_reimport_unchanged(siming_user, places):
    assert do_import(DonationResource, siming_user, DONATION_HEADERS, donation_rows(places)).ok
    data = CSV().export_data(DonationResource(user=siming_user).export())
    outcome = run_import(DonationResource(user=siming_user), CSV().create_dataset(data))
    assert outcome.errors == []
    assert outcome.created == 0
    assert Donation.objects.count() == 3


def test_donation_sheet_with_bad_rows_writes_nothing(siming_user, places, haicang, pairing_staff_factory):
    haicang_user = pairing_staff_factory(haicang, "haicang-io", extra=IMPORT_PERMS)
    assert do_import(
        DonationResource,
        haicang_user,
        DONATION_HEADERS,
        [["海沧企业", "企业", LAST_WEEK.isoformat(), "资金", "10", "", "", "", "基金会", "", "", "R-HC", ""]],
    ).ok
    day = LAST_WEEK.isoformat()
    rows = [
        ["新公司", "企业", day, "资金", "100", "", "", "", "基金会", "", "", "R-1", ""],  # 2 good
        ["新公司", "企业", day, "资金", "", "", "", "", "基金会", "", "", "R-2", ""],  # 3 cash without amount
        ["新公司", "企业", day, "资金", "12.345", "", "", "", "基金会", "", "", "R-3", ""],  # 4 three decimals
        ["新公司", "企业", TOMORROW.isoformat(), "资金", "1", "", "", "", "基金会", "", "", "R-4", ""],  # 5
        ["新公司", "企业", day, "资金", "1", "", "", "", "基金会", "", "", "R-HC", ""],  # 6 Haicang's receipt
        ["新公司", "企业", day, "资金", "1", "", "", "", "", places["h1"].division_code, "", "R-6", ""],  # 7
        ["新公司", "个人", day, "资金", "1", "", "", "", "基金会", "", "", "R-7", ""],  # 8 donor kind differs
        ["新公司", "企业", day, "物资", "", "", 3, "", "基金会", "", "", "R-8", ""],  # 9 goods without items
        ["新公司", "企业", day, "资金", "1", "", "", "", "基金会", "", "", "R-1", ""],  # 10 duplicate receipt
    ]
    outcome = do_import(DonationResource, siming_user, DONATION_HEADERS, rows)
    assert where(outcome) == [
        (3, "E「金额(元)」"),
        (4, "E「金额(元)」"),
        (5, "C「捐赠日期」"),
        (6, "L「收据编号」"),
        (7, "J「受赠妇联单位」"),
        (8, "B「捐赠方类型」"),
        (9, "F「物资/服务内容」"),
        (10, ""),
    ]
    assert "资金捐赠须填写金额" in message(outcome, 3)
    assert "最多保留两位小数" in message(outcome, 4)
    assert "不能晚于今天" in message(outcome, 5)
    assert "已由其他辖区登记" in message(outcome, 6)
    assert "不在您的管辖范围内" in message(outcome, 7)
    assert "已登记为“企业”" in message(outcome, 8)
    assert "与第 2 行重复" in message(outcome, 10)
    assert list(Donation.objects.values_list("receipt_number", flat=True)) == ["R-HC"]
    assert list(Donor.objects.values_list("name", flat=True)) == ["海沧企业"]


def test_donation_export_is_scoped(siming_user, places, haicang, pairing_staff_factory):
    haicang_user = pairing_staff_factory(haicang, "haicang-io", extra=IMPORT_PERMS)
    assert do_import(DonationResource, siming_user, DONATION_HEADERS, donation_rows(places)[:1]).ok
    assert do_import(
        DonationResource,
        haicang_user,
        DONATION_HEADERS,
        [["海沧企业", "企业", LAST_WEEK.isoformat(), "资金", "10", "", "", "", "基金会", "", "", "R-HC", ""]],
    ).ok
    rows = DonationResource(user=siming_user).export().dict
    assert [(r["捐赠方"], r["金额(元)"], r["收据编号"]) for r in rows] == [("厦门某科技公司", "100000.00", "R-001")]
    assert rows[0]["捐赠方类型"] == "企业" and rows[0]["捐赠类型"] == "资金"
