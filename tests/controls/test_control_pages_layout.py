"""The control pages read well: the "Add a periodic activity" form is styled with each label above its field, the
requirement picker can be searched (by a static script, nothing inline), and the SoA stacks on a phone."""

import re

import pytest
from django.urls import reverse

from tests.factories import make_control, make_requirement


@pytest.fixture
def control(owner):
    return make_control(owner, reference="AC-01", requirements=[make_requirement()])


def test_the_add_activity_form_is_styled_with_labels_above_fields(client, compliance, control):
    client.force_login(compliance)
    page = client.get(reverse("controls:detail", args=[control.pk])).content.decode()
    form = page.split('action="' + reverse("controls:adopt_activity", args=[control.pk]))[1].split("</form>")[0]
    for name in ("template", "owner", "frequency"):
        assert re.search(rf'<select name="{name}" class="[^"]*form-select', form), name
        assert form.index(f'for="id_{name}"') < form.index(f'name="{name}"')  # the label comes first
    assert re.search(r'<input type="date" name="start_date"[^>]*class="[^"]*form-control', form)
    assert re.search(r'<input type="checkbox" name="evidence_required"[^>]*form-check-input', form)
    assert "Evidence required" in form


def test_the_requirement_picker_is_searchable_without_inline_script(client, compliance, control):
    client.force_login(compliance)
    page = client.get(reverse("controls:edit", args=[control.pk])).content.decode()
    assert re.search(r'<select name="requirements"[^>]*data-picker=', page)
    assert '<script src="/static/controls/picker.js"' in page
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page)  # no inline script (Content-Security-Policy)


def test_the_soa_stacks_its_columns_on_a_phone(client, compliance, annex_a):
    client.force_login(compliance)
    page = client.get(reverse("controls:soa")).content.decode()
    assert '<link rel="stylesheet" href="/static/controls/controls.css">' in page
    row = page.split('<tr id="entry-')[1].split("</tr>")[0]
    for label in ("Control", "Applicable", "Justification", "Implementation", "Our controls"):
        assert f'data-label="{label}"' in row


def test_adding_an_activity_with_the_forms_defaults_uses_its_usual_frequency(client, compliance, control, clock):
    """The first frequency offered is the activity's own: submitting the form as shown puts a quarterly access
    review on the calendar (it used to offer "every week" first, which the reminders then refused)."""
    client.force_login(compliance)
    page = client.get(reverse("controls:detail", args=[control.pk])).content.decode()
    assert re.search(r'<select name="frequency"[^>]*>\s*<option value="" selected>The activity', page)
    response = client.post(
        reverse("controls:adopt_activity", args=[control.pk]),
        {
            "template": "access_review",
            "owner": control.owner_id,
            "frequency": "",
            "start_date": clock.today.isoformat(),
            "evidence_required": "on",
        },
    )
    assert response.status_code == 302
    schedule = control.schedules.get()
    assert "INTERVAL=3" in schedule.rrule and schedule.evidence_required
