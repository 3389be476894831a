"""The calendar now tells a subject's schedules apart by purpose: this app's existing schedules get theirs."""

from django.db import migrations


def set_purpose(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Schedule = apps.get_model("maintenance", "Schedule")
    subject_type = ContentType.objects.filter(app_label="evidence", model="evidenceitem").first()
    if subject_type is not None:
        Schedule.objects.filter(subject_type=subject_type, purpose="").update(purpose="renewal")


class Migration(migrations.Migration):
    dependencies = [
        ("evidence", "0005_evidence_newest_first_index"),
        ("maintenance", "0002_schedule_purpose_notices_moved"),
    ]

    operations = [migrations.RunPython(set_purpose, migrations.RunPython.noop)]
