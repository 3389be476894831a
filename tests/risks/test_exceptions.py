"""Exceptions to a control: why, what compensates, owner, approver and expiry; shown on the control; the same
approval rules and expiry as acceptances."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from isms.maintenance.models import Schedule
from risks import services
from risks.models import ControlException


def request(control, by, approver, **changes):
    from django.utils import timezone

    values = {
        "title": "Legacy payroll server: no SSO",
        "reason": "Vendor cannot support SSO until the spring",
        "compensating": "Monthly account review; HR VLAN only",
        "owner": control.owner,
        "approver": approver,
        "expires_on": timezone.localdate() + datetime.timedelta(days=120),
        **changes,
    }
    return services.exception_request(control=control, by=by, **values)


def test_an_exception_is_asked_approved_and_shown_on_the_control(clock, client_as, compliance, owner, control, viewer):
    client = client_as(owner)
    page = client.get(reverse("risks:exception_create", args=[control.pk]))
    assert page.status_code == 200
    response = client.post(
        reverse("risks:exception_create", args=[control.pk]),
        {
            "title": "Legacy payroll server: no SSO",
            "reason": "Vendor",
            "compensating": "Monthly account review",
            "owner": owner.pk,
            "approver": compliance.pk,
            "expires_on": "2026-07-01",
        },
    )
    assert response.status_code == 302, response.context["form"].errors
    item = ControlException.objects.get()
    assert (
        client_as(compliance)
        .post(reverse("risks:exception_decide", args=[item.pk]), {"decision": "approve"})
        .status_code
        == 302
    )
    item.refresh_from_db()
    assert item.state == "approved" and item.in_force()
    assert Schedule.objects.get(purpose="renewal").start_date == datetime.date(2026, 6, 1)
    control_page = client_as(viewer).get(reverse("controls:detail", args=[control.pk])).content.decode()
    assert "Legacy payroll server: no SSO" in control_page and "In force" in control_page


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"approver": None}, "approver", "Name the approver"),
        ({"expires_on": None}, "expires_on", "Give an expiry date"),
        ({"compensating": ""}, "compensating", "what compensates"),
    ],
)
def test_bad_requests_are_refused_and_nothing_saved(clock, owner, compliance, control, changes, field, words):
    approver = changes.pop("approver", compliance)
    with pytest.raises(ValidationError) as refused:
        request(control, owner, approver, **changes)
    assert words in refused.value.message_dict[field][0]
    assert not ControlException.objects.exists()


def test_the_requester_cannot_approve_it(clock, client_as, compliance, admin_user, control):
    item = request(control, compliance, admin_user)
    assert (
        client_as(compliance)
        .post(reverse("risks:exception_decide", args=[item.pk]), {"decision": "approve"})
        .status_code
        == 403
    )


def test_it_lapses_on_expiry_and_owner_and_approver_are_told(clock, compliance, owner, control):
    item = request(control, owner, compliance)
    services.exception_decide(exception=item, by=compliance, approve=True)
    clock.move_to(item.expires_on + datetime.timedelta(days=1))
    assert services.decisions_check() == [item]
    item.refresh_from_db()
    assert item.state == "lapsed"
    from isms.notices.models import Notice

    assert set(Notice.objects.values_list("recipient__username", flat=True)) == {"owner", "compliance"}


def test_an_exception_in_force_is_shown_on_the_controls_coverage(clock, client_as, compliance, owner, control):
    item = request(control, owner, compliance)
    page = client_as(owner).get(reverse("evidence:control_coverage", args=[control.pk])).content.decode()
    assert "Exception in force" not in page  # not yet approved
    services.exception_decide(exception=item, by=compliance, approve=True)
    page = client_as(owner).get(reverse("evidence:control_coverage", args=[control.pk])).content.decode()
    assert "Exception in force until 8 Jul 2026" in page and "Monthly account review; HR VLAN only" in page
