"""What the risk register's tasks mean on the calendar: reviews of a risk, treatment actions, and the renewal of
an acceptance or an exception before it expires."""

from django.urls import reverse

from isms.maintenance.purposes import Purpose, register

from .services import ACTION, RENEWAL, REVIEW, action_done, review_from_task

register(
    Purpose(
        model="risks.Risk",
        purpose=REVIEW,
        label=lambda risk: f"Risk {risk.reference}: {risk.title}",
        url=lambda risk: reverse("risks:detail", args=[risk.pk]),
        on_completed=review_from_task,
    )
)
register(
    Purpose(
        model="risks.TreatmentAction",
        purpose=ACTION,
        label=lambda action: f"Risk {action.risk.reference} treatment: {action.title}",
        url=lambda action: reverse("risks:detail", args=[action.risk_id]),
        on_completed=action_done,
    )
)
register(
    Purpose(
        model="risks.Acceptance",
        purpose=RENEWAL,
        label=lambda acceptance: (
            f"Acceptance of risk {acceptance.risk.reference} (expires {acceptance.expires_on:%d %b %Y})"
        ),
        url=lambda acceptance: reverse("risks:acceptance", args=[acceptance.pk]),
    )
)
register(
    Purpose(
        model="risks.ControlException",
        purpose=RENEWAL,
        label=lambda exc: f"Exception to {exc.control.reference} (expires {exc.expires_on:%d %b %Y})",
        url=lambda exc: reverse("risks:exception", args=[exc.pk]),
    )
)
