"""Places on the controls pages that apps above this one fill in, without this app importing them (the risk
register shows the risks behind each SoA line, and a control's risks and exceptions on its page):

    register_soa_column(SoAColumn(header="Risks", template="risks/_soa_cell.html", values=risks_by_requirement))
    register_control_panel(ControlPanel(template="risks/_control_panel.html", context=panel_context))

and hears when a control's activity is missed past its grace period (the audit programme raises a
nonconformity): `register_missed_listener(listener)`, called with `occurrence=`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class SoAColumn:
    """A column of the working SoA: `values(requirement_ids)` gives each line's value in a constant number of
    queries; `template` renders one cell with `value`."""

    header: str
    template: str
    values: Callable[[list[int]], dict[int, object]]


@dataclass(frozen=True)
class ControlPanel:
    """A section of a control's page: `context(user, control)` for `template`; `coverage_template`, if given,
    is shown on the control's coverage page (the evidence app's) with the same context."""

    template: str
    context: Callable[[object, object], dict]
    coverage_template: str = ""


_SOA_COLUMNS: dict[str, SoAColumn] = {}
_PANELS: dict[str, ControlPanel] = {}
_MISSED: dict[str, Callable[..., object]] = {}


def register_soa_column(column: SoAColumn) -> SoAColumn:
    _SOA_COLUMNS[column.header] = column
    return column


def register_control_panel(panel: ControlPanel) -> ControlPanel:
    _PANELS[panel.template] = panel
    return panel


def soa_columns() -> list[SoAColumn]:
    return list(_SOA_COLUMNS.values())


def soa_cells(requirement_ids: Iterable[int]) -> dict[int, list[tuple[str, object]]]:
    """{requirement id: [(template, value) per registered column]} for the lines shown."""
    ids = list(requirement_ids)
    cells: dict[int, list[tuple[str, object]]] = {pk: [] for pk in ids}
    for column in _SOA_COLUMNS.values():
        values = column.values(ids)
        for pk in ids:
            cells[pk].append((column.template, values.get(pk)))
    return cells


def control_panels(user, control, *, coverage: bool = False) -> list[dict]:
    """What each registered panel shows for this control: [{"template": …, **context}]; `coverage`: those for the
    control's coverage page."""
    panels = [p for p in _PANELS.values() if p.coverage_template] if coverage else list(_PANELS.values())
    return [{"template": p.coverage_template if coverage else p.template, **p.context(user, control)} for p in panels]


def register_missed_listener(listener: Callable[..., object]) -> Callable[..., object]:
    """`listener(occurrence=)` is called when an activity of a control passes its grace period undone."""
    _MISSED[f"{listener.__module__}.{listener.__qualname__}"] = listener
    return listener


def activity_missed(*, occurrence) -> None:
    """The calendar's on_missed hook of control activities: tells every registered listener."""
    for listener in _MISSED.values():
        listener(occurrence=occurrence)
