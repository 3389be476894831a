"""Schedules say whether their tasks need evidence; existing control activities do."""

from django.db import migrations, models


def require_evidence_for_control_activities(apps, schema_editor):
    Schedule = apps.get_model("maintenance", "Schedule")
    # Recurring control activities (no purpose); an evidence renewal is done by recording the new version.
    Schedule.objects.filter(kind="control_activity", purpose="").update(evidence_required=True)


class Migration(migrations.Migration):
    dependencies = [("maintenance", "0002_schedule_purpose_notices_moved")]

    operations = [
        migrations.AddField(
            model_name="schedule",
            name="evidence_required",
            field=models.BooleanField(
                default=False,
                help_text="The owner is asked for a file or a link when marking a task done; a task done without "
                "one needs a reason and shows as done without evidence.",
                verbose_name="evidence required",
            ),
        ),
        migrations.RunPython(require_evidence_for_control_activities, migrations.RunPython.noop),
    ]
