"""The requirement picker on a control's form: a click adds or removes one requirement and keeps the others,
and a search that finds nothing says so."""

import pytest
from playwright.sync_api import expect

from controls.models import Control
from tests.factories import make_control, make_requirement

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_clicking_adds_to_the_chosen_requirements_instead_of_replacing_them(live_server, page, sign_in, compliance):
    first = make_requirement(identifier="8.24", title="Use of cryptography")
    second = make_requirement(identifier="8.13", title="Information backup")
    third = make_requirement(identifier="8.7", title="Protection against malware")
    control = make_control(compliance, reference="SEC-01", requirements=[first, second])
    page.goto(f"{live_server.url}/controls/{control.pk}/edit/")
    sign_in("compliance", lands_on=f"/controls/{control.pk}/edit/")

    page.get_by_role("searchbox").fill("malware")
    page.get_by_role("option", name="8.7").click()
    expect(page.get_by_text("3 chosen")).to_be_visible()
    page.get_by_role("searchbox").fill("zzz")
    expect(page.get_by_text("nothing else matches")).to_be_visible()
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(f"{live_server.url}/controls/{control.pk}/")
    chosen = set(Control.objects.get(pk=control.pk).requirements.values_list("pk", flat=True))
    assert chosen == {first.pk, second.pk, third.pk}
