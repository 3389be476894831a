from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from controls.catalogue import CatalogueError, load_catalogue, shipped_catalogues


class Command(BaseCommand):
    help = "Load or update framework catalogues from YAML (all shipped ones when no path is given). Idempotent."

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="*", help="catalogue files (default: controls/catalogues/*.yaml)")

    def handle(self, *args, **options):
        paths = [Path(p) for p in options["paths"]] or shipped_catalogues()
        for path in paths:
            try:
                result = load_catalogue(path)
            except CatalogueError as exc:
                raise CommandError(str(exc)) from None
            self.stdout.write(
                f"{result.framework.name}: {result.framework.requirements.filter(retired=False).count()} requirements "
                f"({result.created} new, {result.updated} updated, {result.retired} retired)"
            )
