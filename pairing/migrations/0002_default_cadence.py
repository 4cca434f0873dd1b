"""Default contact cadence per risk grade: 红 14 days, 橙 30, 黄 60, 绿 90."""

from django.db import migrations

DEFAULTS = {"red": 14, "orange": 30, "yellow": 60, "green": 90}


def create_defaults(apps, schema_editor):
    CadenceSetting = apps.get_model("pairing", "CadenceSetting")
    for grade, days in DEFAULTS.items():
        CadenceSetting.objects.get_or_create(risk_grade=grade, defaults={"days": days})


class Migration(migrations.Migration):
    dependencies = [("pairing", "0001_initial")]

    operations = [migrations.RunPython(create_defaults, migrations.RunPython.noop)]
