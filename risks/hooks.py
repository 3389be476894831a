"""What the risk register adds to the controls pages (through controls.hooks; the controls app imports nothing
from here): the risks behind each line of the Statement of Applicability, and on a control's page the risks it
treats and its exceptions."""

from django.utils import timezone

from controls.hooks import ControlPanel, SoAColumn, register_control_panel, register_soa_column
from isms.foundation import reach

from .models import ControlException, Decision, Risk


def risks_by_requirement(requirement_ids: list[int]) -> dict[int, list[Risk]]:
    """The open risks citing each Annex A entry (one query)."""
    found: dict[int, list[Risk]] = {}
    rows = (
        Risk.requirements.through.objects.filter(requirement_id__in=requirement_ids)
        .exclude(risk__status="closed")
        .select_related("risk")
        .order_by("risk__number")
    )
    for row in rows:
        found.setdefault(row.requirement_id, []).append(row.risk)
    return found


def control_panel(user, control) -> dict:
    risks = reach.visible(user, Risk.objects.filter(controls=control).select_related("matrix")).order_by("number")
    exceptions = list(
        ControlException.objects.filter(control=control)
        .exclude(state__in=[Decision.REFUSED, Decision.WITHDRAWN])
        .select_related("owner", "approver")
    )
    return {
        "control_risks": list(risks),
        "control_exceptions": exceptions,
        "exception_in_force": any(e.in_force(timezone.localdate()) for e in exceptions),
        "may_request_exception": reach.may(user, "edit", control),
    }


register_soa_column(SoAColumn(header="Risks behind it", template="risks/_soa_cell.html", values=risks_by_requirement))
register_control_panel(
    ControlPanel(
        template="risks/_control_panel.html",
        context=control_panel,
        coverage_template="risks/_coverage_exceptions.html",
    )
)
