"""Schedules get a purpose; the calendar's notices move to the notice engine (isms.notices), kinds prefixed
"maintenance." and the days before due kept in the notice's data."""

from django.conf import settings
from django.db import migrations, models


def move_notices(apps, schema_editor):
    Old = apps.get_model("maintenance", "Notice")
    New = apps.get_model("notices", "Notice")
    ContentType = apps.get_model("contenttypes", "ContentType")
    occurrence_type, _ = ContentType.objects.get_or_create(app_label="maintenance", model="occurrence")
    batch = []
    for old in Old.objects.order_by("pk").iterator(chunk_size=2000):
        batch.append(
            New(
                key=old.key,
                kind=f"maintenance.{old.slot}",
                recipient_id=old.recipient_id,
                subject_type_id=occurrence_type.pk if old.occurrence_id else None,
                subject_id=old.occurrence_id,
                data={"days_before": old.days_before} if old.days_before is not None else {},
                claimed_until=old.claimed_until,
                sent_at=old.sent_at,
                cancelled_at=old.cancelled_at,
                attempts=old.attempts,
                last_error=old.last_error,
            )
        )
        if len(batch) >= 2000:
            New.objects.bulk_create(batch)
            batch = []
    New.objects.bulk_create(batch)
    # created_at is auto_now_add: carry the original times over.
    for key, created_at in Old.objects.values_list("key", "created_at").iterator(chunk_size=2000):
        New.objects.filter(key=key).update(created_at=created_at)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("maintenance", "0001_initial"),
        ("notices", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(move_notices, migrations.RunPython.noop),
        migrations.RemoveField(
            model_name="notice",
            name="occurrence",
        ),
        migrations.RemoveField(
            model_name="notice",
            name="recipient",
        ),
        migrations.RemoveIndex(
            model_name="schedule",
            name="maintenance_subject_f0f7d9_idx",
        ),
        migrations.AddField(
            model_name="schedule",
            name="purpose",
            field=models.CharField(blank=True, max_length=40),
        ),
        migrations.AddIndex(
            model_name="schedule",
            index=models.Index(fields=["subject_type", "subject_id", "purpose"], name="maintenance_subject_739b80_idx"),
        ),
        migrations.AddConstraint(
            model_name="schedule",
            constraint=models.UniqueConstraint(
                condition=models.Q(("purpose", ""), _negated=True),
                fields=("subject_type", "subject_id", "purpose"),
                name="one_schedule_per_subject_and_purpose",
            ),
        ),
        migrations.DeleteModel(
            name="Notice",
        ),
    ]
