from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from isms.web.demo import DEMO_USERS, demo_load


class Command(BaseCommand):
    help = "Load (or refresh) the demo organisation with one login per role. Development only."

    def add_arguments(self, parser):
        parser.add_argument(
            "--allow-production", action="store_true", help="Load even when DEBUG is off (never on a real system)."
        )

    def handle(self, *args, **options):
        if not settings.DEBUG and not options["allow_production"]:
            raise CommandError(
                "Refusing to load demo accounts with DEBUG off: demo logins must never exist in production."
            )
        demo_load()
        names = ", ".join(u[0] for u in DEMO_USERS)
        self.stdout.write(self.style.SUCCESS(f"Demo organisation loaded; logins: {names}."))
