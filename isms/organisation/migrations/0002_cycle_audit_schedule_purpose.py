"""The calendar now tells a subject's schedules apart by purpose: this app's existing schedules get theirs."""

from django.db import migrations


def set_purpose(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Schedule = apps.get_model("maintenance", "Schedule")
    subject_type = ContentType.objects.filter(app_label="organisation", model="cycleaudit").first()
    if subject_type is not None:
        Schedule.objects.filter(subject_type=subject_type, purpose="").update(purpose="certification-audit")


class Migration(migrations.Migration):
    dependencies = [
        ("organisation", "0001_initial"),
        ("maintenance", "0002_schedule_purpose_notices_moved"),
    ]

    operations = [migrations.RunPython(set_purpose, migrations.RunPython.noop)]
