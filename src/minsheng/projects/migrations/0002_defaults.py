from django.db import migrations

CATEGORIES = ["乡村振兴", "就业创业", "社会保障", "生态环境", "公共安全", "医疗卫生", "文化教育", "营商环境", "城乡建设", "其他"]

# (trigger, threshold, after_step, step, order): the ladder the issue describes; the county
# edits it in the admin afterwards.
RULES = [
    ("milestone_late", 0, "", "remind", 10),
    ("milestone_late_days", 5, "", "urge", 20),
    ("report_missing", 3, "", "urge", 30),
    ("unresolved", 5, "urge", "written", 40),
    ("behind_months", 2, "", "interview", 50),
    ("deadline_missed", 0, "", "notice", 60),
]


def seed(apps, schema_editor):
    ProjectCategory = apps.get_model("projects", "ProjectCategory")
    EscalationRule = apps.get_model("projects", "EscalationRule")
    ProjectSettings = apps.get_model("projects", "ProjectSettings")
    for order, name in enumerate(CATEGORIES, start=1):
        ProjectCategory.objects.get_or_create(name=name, defaults={"order": order * 10})
    if not EscalationRule.objects.exists():
        for trigger, threshold, after_step, step, order in RULES:
            EscalationRule.objects.create(
                trigger=trigger, threshold=threshold, after_step=after_step, step=step, order=order
            )
    ProjectSettings.objects.get_or_create(pk=1)


class Migration(migrations.Migration):
    dependencies = [("projects", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
