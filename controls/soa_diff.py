"""What changed between two frozen SoA snapshots (see selectors.py for a snapshot line's shape). Pure: no
database, so the approval page can compare the working SoA with the last version as cheaply as two versions."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field


def _controls_label(controls: Iterable[dict]) -> str:
    """The mapped controls of a line as one phrase, "none" when there are none."""
    return ", ".join(f"{c['reference']} {c['name']}" for c in controls) or "none"


def _yes_no(value: bool) -> str:
    return "Yes" if value else "No (excluded)"


@dataclass
class FieldChange:
    """One field of one line, what it was and what it is (as a reader sees them)."""

    field: str
    label: str
    before: str
    after: str
    added: list[str] = field(default_factory=list)  # for controls: the ones newly mapped
    removed: list[str] = field(default_factory=list)  # for controls: the ones no longer mapped


@dataclass
class LineChange:
    """One requirement whose line differs, with each field that changed."""

    identifier: str
    title: str
    group: str
    changes: list[FieldChange]


@dataclass
class SoADiff:
    """What changed from one snapshot (`before`) to another (`after`)."""

    added: list[dict]
    removed: list[dict]
    changed: list[LineChange]
    unchanged: int

    @property
    def has_changes(self) -> bool:
        return bool(self.added or self.removed or self.changed)

    @property
    def change_count(self) -> int:
        return len(self.added) + len(self.removed) + len(self.changed)


def _line_changes(old: dict, new: dict) -> list[FieldChange]:
    changes = []
    if old.get("title") != new.get("title"):
        changes.append(FieldChange("title", "Title", old.get("title", ""), new.get("title", "")))
    if old.get("applicable") != new.get("applicable"):
        changes.append(
            FieldChange("applicable", "Applicable", _yes_no(old.get("applicable")), _yes_no(new.get("applicable")))
        )
    if (old.get("justification") or "") != (new.get("justification") or ""):
        changes.append(
            FieldChange("justification", "Justification", old.get("justification", ""), new.get("justification", ""))
        )
    if old.get("status") != new.get("status"):
        changes.append(
            FieldChange(
                "status",
                "Implementation status",
                old.get("status_label") or old.get("status", ""),
                new.get("status_label") or new.get("status", ""),
            )
        )
    old_controls = {c["reference"]: c for c in old.get("controls", [])}
    new_controls = {c["reference"]: c for c in new.get("controls", [])}
    if [(c["reference"], c["name"]) for c in old.get("controls", [])] != [
        (c["reference"], c["name"]) for c in new.get("controls", [])
    ]:
        changes.append(
            FieldChange(
                "controls",
                "Controls",
                _controls_label(old.get("controls", [])),
                _controls_label(new.get("controls", [])),
                added=[f"{r} {c['name']}" for r, c in new_controls.items() if r not in old_controls],
                removed=[f"{r} {c['name']}" for r, c in old_controls.items() if r not in new_controls],
            )
        )
    return changes


def soa_diff(before: Sequence[dict], after: Sequence[dict]) -> SoADiff:
    """Compare two snapshots line by line, matched on the requirement identifier. Pure: no database.

    A requirement only in `after` is added, only in `before` removed; for one in both, each of title,
    applicable, justification, implementation status and mapped controls that differs is a FieldChange.
    Lines come out in the order of `after` (removed ones in the order of `before`)."""
    old = {line["identifier"]: line for line in before}
    new = {line["identifier"]: line for line in after}
    added = [line for line in after if line["identifier"] not in old]
    removed = [line for line in before if line["identifier"] not in new]
    changed = []
    unchanged = 0
    for line in after:
        previous = old.get(line["identifier"])
        if previous is None:
            continue
        changes = _line_changes(previous, line)
        if changes:
            changed.append(LineChange(line["identifier"], line["title"], line.get("group", ""), changes))
        else:
            unchanged += 1
    return SoADiff(added=added, removed=removed, changed=changed, unchanged=unchanged)
