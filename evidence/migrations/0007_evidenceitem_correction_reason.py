"""A correction records why it replaces the previous version."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("evidence", "0006_renewal_schedule_purpose")]

    operations = [
        migrations.AddField(
            model_name="evidenceitem",
            name="correction_reason",
            field=models.TextField(
                blank=True, help_text="Why this version replaces the previous one; kept on record for the auditor."
            ),
        ),
    ]
