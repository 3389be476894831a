"""`manage.py send_digests`: this week's digests, sent now, for trying them.

Beat plans the weekly digests every Monday at 07:00 (`maintenance.weekly_digests`); this command plans the same
ones through `notices.plan_digests()` and sends them at once, without waiting for a worker. A digest goes once a
week per person, so a second run in the same week sends nothing unless asked with `--again`."""

from collections import Counter

from django.core.management.base import BaseCommand
from django.utils import timezone

from isms.maintenance import notices
from isms.notices import engine
from isms.notices.models import Notice

DIGESTS = {notices.Slot.OWNER_DIGEST: "owner digest", notices.Slot.TEAM_DIGEST: "compliance digest"}


class Command(BaseCommand):
    help = (
        "Send this week's digests now: each owner's open and upcoming work, and the compliance team's overdue "
        "list. Beat sends them every Monday at 07:00; this is for trying them."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--again", action="store_true", help="Send this week's digests once more, even if they were sent already."
        )

    def handle(self, *args, again: bool = False, **options) -> None:
        today = timezone.localdate()
        ids = notices.plan_digests(today)
        this_week = Notice.objects.filter(key__startswith="digest:", key__contains=f":{notices.iso_week(today)}:")
        if not ids and again:
            stamp = timezone.now().strftime("%Y%m%dT%H%M%S")
            rows = [
                engine.notice_row(key=f"{key}:again:{stamp}", kind=kind, recipient_id=recipient)
                for key, kind, recipient in this_week.exclude(key__contains=":again:").values_list(
                    "key", "kind", "recipient_id"
                )
            ]
            ids = engine.notices_create(rows)
        if not ids:
            self.stdout.write(
                f"The digests were already sent this week ({this_week.count()}); nothing was sent again. "
                "Add --again to send them once more."
            )
            return
        outcomes = {pk: engine.deliver(pk) for pk in ids}
        sent = Counter(
            DIGESTS.get(kind, kind)
            for pk, kind in Notice.objects.filter(pk__in=ids).values_list("pk", "kind")
            if outcomes[pk] == "sent"
        )
        words = " and ".join(f"{n} {label}{'s' if n != 1 else ''}" for label, n in sorted(sent.items(), reverse=True))
        self.stdout.write(f"Sent {words or 'nothing'}.")
        unsent = [pk for pk, outcome in outcomes.items() if outcome != "sent"]
        if unsent:
            self.stdout.write(f"{len(unsent)} could not be sent now; they are retried like any notice.")
