"""Loading framework catalogues from YAML (format: controls/catalogues/README.md). Idempotent."""

from dataclasses import dataclass
from pathlib import Path

import yaml
from django.db import transaction

from .models import Framework, Requirement

CATALOGUE_DIR = Path(__file__).resolve().parent / "catalogues"


class CatalogueError(ValueError):
    pass


@dataclass
class LoadResult:
    framework: Framework
    created: int
    updated: int
    retired: int


def _read(path: Path) -> dict:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise CatalogueError(f"{path}: cannot read: {exc}") from None
    if not isinstance(data, dict) or "framework" not in data or "groups" not in data:
        raise CatalogueError(f"{path}: needs a 'framework' mapping and a 'groups' list")
    fw = data["framework"]
    for key in ("code", "name"):
        if not fw.get(key):
            raise CatalogueError(f"{path}: framework.{key} is missing")
    seen = set()
    for group in data["groups"]:
        for req in group.get("requirements", []):
            ident = str(req.get("id", "")).strip()
            if not ident or not req.get("title"):
                raise CatalogueError(f"{path}: every requirement needs an id and a title (group {group.get('name')})")
            if ident in seen:
                raise CatalogueError(f"{path}: requirement id {ident} appears twice")
            seen.add(ident)
    return data


@transaction.atomic
def load_catalogue(path: Path) -> LoadResult:
    data = _read(path)
    fw = data["framework"]
    framework, _ = Framework.objects.update_or_create(
        code=fw["code"],
        defaults={
            "name": fw["name"],
            "version": str(fw.get("version", "")),
            "description": fw.get("description", ""),
            "has_soa": bool(fw.get("soa", False)),
        },
    )
    existing = {r.identifier: r for r in framework.requirements.all()}
    created = updated = 0
    position = 0
    in_file = set()
    for group in data["groups"]:
        for req in group.get("requirements", []):
            position += 1
            ident = str(req["id"]).strip()
            in_file.add(ident)
            values = {
                "title": req["title"],
                "group": group.get("name", ""),
                "description": req.get("description", ""),
                "position": position,
                "retired": False,
            }
            current = existing.get(ident)
            if current is None:
                Requirement.objects.create(framework=framework, identifier=ident, **values)
                created += 1
            elif any(getattr(current, k) != v for k, v in values.items()):
                for k, v in values.items():
                    setattr(current, k, v)
                current.save()
                updated += 1
    retired = framework.requirements.exclude(identifier__in=in_file).filter(retired=False).update(retired=True)
    return LoadResult(framework, created, updated, retired)


def shipped_catalogues() -> list[Path]:
    return sorted(CATALOGUE_DIR.glob("*.yaml"))
