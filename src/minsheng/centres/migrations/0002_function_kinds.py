from django.db import migrations

# The seven basic functions of "7+X", and the usual extensions; the county edits, adds and
# switches them off in the admin afterwards.
KINDS = [
    ("activity-room", "多功能活动室", True),
    ("shop", "便民超市", True),
    ("parcels", "快递驿站", True),
    ("toilet", "公共厕所", True),
    ("cleaning", "保洁室", True),
    ("clinic", "卫生室", True),
    ("canteen", "幸福食堂", True),
    ("sports-room", "体育活动室", False),
    ("after-school", "四点半课堂", False),
    ("day-care", "日间照料", False),
    ("bathhouse", "澡堂", False),
]


def seed(apps, schema_editor):
    FunctionKind = apps.get_model("centres", "FunctionKind")
    CentreSettings = apps.get_model("centres", "CentreSettings")
    for order, (code, name, basic) in enumerate(KINDS, start=1):
        FunctionKind.objects.get_or_create(
            code=code, defaults={"name": name, "basic": basic, "order": order}
        )
    CentreSettings.objects.get_or_create(pk=1)


class Migration(migrations.Migration):
    dependencies = [("centres", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
