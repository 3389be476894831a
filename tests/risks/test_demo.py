"""The demo's risk register: realistic risks, a year of reviews (some late, some overdue now), two acceptances
(one about to expire), an exception, treatment actions, and the SoA's justifications pointing at real risks."""

import re

import pytest
from django.urls import reverse

from controls.models import SoAEntry
from isms.web.demo import demo_load
from risks import selectors
from risks.models import Acceptance, Assessment, ControlException, Risk, TreatmentAction


@pytest.mark.django_db
def test_the_demo_register(client, clock):
    users = demo_load(password="demo-pass-1", today=clock.today)
    assert 20 <= Risk.objects.count() <= 30
    assert Risk.objects.values("department").distinct().count() >= 5
    assert Risk.objects.get(reference="R-01").matrix.size == 5
    assert Assessment.objects.filter(kind="review", reason__contains="after it was due").exists()  # late reviews
    queue = selectors.queue(users["compliance"], clock.today)
    assert queue["overdue"] and queue["requested"]
    acceptances = Acceptance.objects.filter(state="approved").order_by("expires_on")
    assert acceptances.count() == 2 and (acceptances[0].expires_on - clock.today).days <= 30
    assert ControlException.objects.filter(state="approved").count() == 1
    assert TreatmentAction.objects.filter(done_on__isnull=False).exists()
    assert TreatmentAction.objects.filter(done_on__isnull=True).exists()
    # Each risk an SoA justification cites exists and cites that Annex A control.
    for entry in SoAEntry.objects.exclude(justification="").select_related("requirement"):
        for ref in re.findall(r"\bR-\d+\b", entry.justification):
            assert Risk.objects.get(reference=ref).requirements.filter(pk=entry.requirement_id).exists(), ref
    client.force_login(users["compliance"])
    page = client.get(reverse("controls:soa")).content.decode()
    assert f'href="{reverse("risks:detail", args=[Risk.objects.get(reference="R-03").pk])}"' in page
    demo_load(password="demo-pass-2", today=clock.today)
    assert Risk.objects.count() == len(set(Risk.objects.values_list("title", flat=True)))  # no copies
