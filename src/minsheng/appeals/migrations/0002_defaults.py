from django.db import migrations

LIMITS = [
    ("consult", "normal", 3),
    ("help", "normal", 5),
    ("complaint", "normal", 13),
    ("report", "normal", 13),
    ("suggestion", "normal", 13),
    ("praise", "normal", 5),
    ("consult", "urgent", 0),
    ("help", "urgent", 0),
    ("complaint", "urgent", 0),
    ("report", "urgent", 0),
    ("suggestion", "urgent", 0),
    ("praise", "urgent", 0),
]

REFUSALS = [
    ("emergency-110", "紧急警情、治安案件", "transferred", "涉及人身财产安全的紧急情况，请立即拨打110报警。"),
    ("emergency-119", "火灾等灾害事故", "transferred", "发生火灾或其他灾害事故，请立即拨打119。"),
    ("emergency-120", "急危重症病人", "transferred", "需要紧急医疗救护，请立即拨打120。"),
    ("emergency-122", "道路交通事故", "transferred", "发生道路交通事故，请立即拨打122。"),
    ("litigation", "已进入诉讼、仲裁程序", "refused", "该事项已进入或应当通过诉讼、仲裁等法定途径解决，请依法通过相应途径办理。"),
    ("petition-route", "应通过信访等法定途径", "refused", "该事项依法应通过信访、行政复议等法定途径提出，请按规定途径反映。"),
    ("outside-county", "不属于本县管辖", "transferred", "该事项不属于本县管辖，已告知您向有管辖权的地方反映。"),
]


def seed(apps, schema_editor):
    # Defaults from local practice; the county edits them in the admin afterwards.
    TimeLimit = apps.get_model("appeals", "TimeLimit")
    RefusalRule = apps.get_model("appeals", "RefusalRule")
    AppealSettings = apps.get_model("appeals", "AppealSettings")
    for appeal_type, urgency, days in LIMITS:
        TimeLimit.objects.get_or_create(appeal_type=appeal_type, urgency=urgency, defaults={"working_days": days})
    for code, title, outcome, message in REFUSALS:
        RefusalRule.objects.get_or_create(code=code, defaults={"title": title, "outcome": outcome, "message": message})
    AppealSettings.objects.get_or_create(pk=1)


class Migration(migrations.Migration):
    dependencies = [("appeals", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
