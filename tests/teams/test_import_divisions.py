import gzip
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from teams.divisions import DivisionFileError, import_divisions
from teams.models import Federation, FederationKind, Level
from tests.conftest import XIAMEN_CSV

HEADER = "code,name,level,parent_code\n"


def write(tmp_path: Path, text: str, name="units.csv", encoding="utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


@pytest.mark.django_db
def test_xiamen_file_gives_the_four_tiers():
    result = import_divisions(XIAMEN_CSV)
    assert result.created == 616
    counts = {level: Federation.objects.filter(level=level).count() for level in Level.values}
    assert counts == {"province": 0, "city": 1, "district": 6, "street": 54, "village": 555}
    city = Federation.objects.get(level="city")
    assert city.name == "厦门市" and city.parent is None
    village = Federation.objects.get(division_code="350203001001")
    assert village.path == "3502/350203/350203001/350203001001/"
    assert village.parent.division_code == "350203001"


@pytest.mark.django_db
def test_second_import_changes_nothing():
    import_divisions(XIAMEN_CSV)
    snapshot = list(Federation.objects.order_by("pk").values_list("pk", "name", "level", "parent_id", "path"))
    result = import_divisions(XIAMEN_CSV)
    assert (result.created, result.updated, result.unchanged) == (0, 0, 616)
    assert list(Federation.objects.order_by("pk").values_list("pk", "name", "level", "parent_id", "path")) == snapshot


@pytest.mark.django_db
def test_gzipped_file_and_command_output(tmp_path, capsys):
    gz = tmp_path / "xiamen.csv.gz"
    gz.write_bytes(gzip.compress(XIAMEN_CSV.read_bytes()))
    call_command("import_divisions", str(gz))
    assert "新增 616" in capsys.readouterr().out
    assert Federation.objects.count() == 616


@pytest.mark.django_db
def test_renamed_unit_is_updated_in_place(tmp_path):
    import_divisions(XIAMEN_CSV)
    unit = Federation.objects.get(division_code="350203")
    text = XIAMEN_CSV.read_text(encoding="utf-8").replace("350203,思明区,", "350203,思明区(新),")
    result = import_divisions(write(tmp_path, text))
    assert (result.created, result.updated) == (0, 1)
    unit.refresh_from_db()
    assert unit.name == "思明区(新)"


BAD_FILES = {
    "unknown parent": (HEADER + "3502,厦门市,city,\n359901,某区,district,3599\n", 3, "3599 不存在"),
    # Codes are paths, so a level that does not sit below its parent shows as a code of the wrong length.
    "level not below parent": (
        HEADER + "3502,厦门市,city,\n350203,思明区,district,3502\n350203001,街道,district,350203\n",
        4,
        "district 级单位的代码应为 6 位",
    ),
    "street under street": (
        HEADER + "3502,厦门市,city,\n350203,思明区,district,3502\n350203001,甲街道,street,350203\n"
        "350203001001,乙,street,350203001\n",
        5,
        "格式错误",
    ),
    "duplicate code": (
        HEADER + "3502,厦门市,city,\n350203,思明区,district,3502\n350203,思明区,district,3502\n",
        4,
        "重复(第 3 行",
    ),
    "malformed code": (HEADER + "3502,厦门市,city,\n35020X,思明区,district,3502\n", 3, "格式错误"),
    "unknown level": (HEADER + "3502,厦门市,county,\n", 2, "层级 'county' 无效"),
    "wrong column count": (HEADER + "3502,厦门市,city\n", 2, "应有 4 列"),
    "not under parent code": (HEADER + "3502,厦门市,city,\n350303,某区,district,3502\n", 3, "不在上级 3502 之下"),
    "wrong header": ("id,name,level,parent\n3502,厦门市,city,\n", 1, "表头应为"),
}


@pytest.mark.django_db
@pytest.mark.parametrize("case", list(BAD_FILES))
def test_bad_input_is_rejected_with_line_and_writes_nothing(tmp_path, case):
    import_divisions(XIAMEN_CSV)
    before = list(Federation.objects.order_by("pk").values_list("pk", "name", "path"))
    text, line, reason = BAD_FILES[case]
    with pytest.raises(DivisionFileError) as excinfo:
        import_divisions(write(tmp_path, text))
    errors = excinfo.value.errors
    assert any(n == line and reason in r for n, r in errors), errors
    assert list(Federation.objects.order_by("pk").values_list("pk", "name", "path")) == before


@pytest.mark.django_db
def test_level_check_against_parent_already_in_database(tmp_path):
    import_divisions(XIAMEN_CSV)
    text = HEADER + "350203001999,新社区,village,350203001\n350203002,错街道,street,350203001\n"
    with pytest.raises(DivisionFileError) as excinfo:
        import_divisions(write(tmp_path, text))
    assert excinfo.value.errors == [(3, "区划代码 350203002 不在上级 350203001 之下(应以上级代码开头)。")]
    assert not Federation.objects.filter(division_code="350203001999").exists()


@pytest.mark.django_db
def test_bad_encoding_reports_the_line(tmp_path):
    path = tmp_path / "gbk.csv"
    path.write_bytes((HEADER + "3502,厦门市,city,\n").encode("utf-8") + "350203,思明区,district,3502\n".encode("gbk"))
    with pytest.raises(DivisionFileError) as excinfo:
        import_divisions(path)
    assert excinfo.value.errors[0][0] == 3
    assert "UTF-8" in excinfo.value.errors[0][1]
    assert Federation.objects.count() == 0


@pytest.mark.django_db
def test_command_reports_errors_and_exit_code(tmp_path):
    path = write(tmp_path, HEADER + "3502,厦门市,city,\n359901,某区,district,3599\n")
    with pytest.raises(CommandError, match="第 3 行"):
        call_command("import_divisions", str(path))
    assert Federation.objects.count() == 0


@pytest.mark.django_db
def test_within_returns_exactly_the_subtree_in_one_query(xiamen):
    street = Federation.objects.get(division_code="350203001")
    expected = {u.pk for u in Federation.objects.all() if u.division_code.startswith("350203001")}
    with CaptureQueriesContext(connection) as queries:
        found = set(Federation.objects.within(street).values_list("pk", flat=True))
    assert len(queries) == 1
    assert found == expected
    assert len(found) == 1 + Federation.objects.filter(parent=street).count()


@pytest.mark.django_db
def test_non_territorial_unit_sits_in_its_parents_subtree(xiamen):
    organ = Federation(name="市直机关妇工委", level=Level.DISTRICT, kind=FederationKind.ORGAN, parent=xiamen)
    organ.full_clean()
    organ.save()
    assert organ.path.startswith(xiamen.path) and organ.division_code is None
    assert Federation.objects.within(xiamen).filter(pk=organ.pk).exists()
    siming = Federation.objects.get(division_code="350203")
    assert not Federation.objects.within(siming).filter(pk=organ.pk).exists()
    # A re-import of the official codes keeps it where it is.
    import_divisions(XIAMEN_CSV)
    organ.refresh_from_db()
    assert organ.parent_id == xiamen.pk


@pytest.mark.django_db
def test_moving_a_unit_carries_its_subtree(xiamen):
    micro_home = Federation.objects.create(
        name="中建三局三公司妇女微家", level=Level.STREET, kind=FederationKind.MICRO_HOME, parent=xiamen
    )
    team_home = Federation.objects.create(
        name="项目部妇女微家", level=Level.VILLAGE, kind=FederationKind.MICRO_HOME, parent=micro_home
    )
    huli = Federation.objects.get(division_code="350206")
    micro_home.parent = huli
    micro_home.save()
    team_home.refresh_from_db()
    assert team_home.path.startswith(huli.path + micro_home.segment + "/")
    assert Federation.objects.within(huli).filter(pk=team_home.pk).exists()


def _table_definition():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = 'teams_federation'::regclass ORDER BY conname"
        )
        constraints = cursor.fetchall()
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'teams_federation' ORDER BY 1")
        return constraints, cursor.fetchall()


@pytest.mark.django_db(transaction=True)
def test_large_load_rebuilds_indexes_and_constraints_exactly(monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("the index rebuild for large loads is PostgreSQL only")
    from django.db import IntegrityError, transaction

    from teams import divisions

    before = _table_definition()
    monkeypatch.setattr(divisions, "REBUILD_INDEXES_ABOVE", 0)
    import_divisions(XIAMEN_CSV)
    assert Federation.objects.count() == 616
    assert _table_definition() == before
    # The foreign key and the unique path are enforced again.
    with pytest.raises(IntegrityError), transaction.atomic():
        Federation.objects.filter(division_code="350203").update(parent_id=10**9)
    with pytest.raises(IntegrityError), transaction.atomic():
        Federation.objects.filter(division_code="350205").update(path="3502/350203/")
