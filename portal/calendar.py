"""What the portal's tasks mean on the calendar: answering an auditor's evidence request. The task page and the
reminder emails name the request and link to what it is about (the control, which its owner may open); the
auditor's question itself is the task's "What to do". Completing the task with evidence answers the round."""

from django.urls import reverse

from isms.maintenance.purposes import Purpose, register

from .evidence_requests import PURPOSE, round_answered, short


def _label(rnd) -> str:
    req = rnd.request
    again = f", asked again (round {rnd.number})" if rnd.number > 1 else ""
    return f"The auditors' evidence request {req.number}{again}: “{short(rnd.text, 120)}”"


def _url(rnd) -> str | None:
    """The control the request is about, if any: the page its owner reads it on. A free-text request has no page
    of its own for the person answering (the portal is the auditors'): the task page shows the question."""
    req = rnd.request
    if req.control_id and req.control.owner_id == req.owner_id:  # someone else's control is not theirs to open
        return reverse("controls:detail", args=[req.control_id])
    return None


register(
    Purpose(
        model="portal.RequestRound",
        purpose=PURPOSE,
        label=_label,
        url=_url,
        on_completed=round_answered,
    )
)
