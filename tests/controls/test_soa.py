"""The Statement of Applicability: the working lines, editing a line, approving frozen versions, what changed
between two versions, and a page built in a constant number of queries."""

import datetime
import zoneinfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from controls import selectors, services
from controls.models import ImplementationStatus, SoAEntry, SoAVersion
from controls.soa_diff import soa_diff
from tests.factories import make_control

S = ImplementationStatus
LONDON = zoneinfo.ZoneInfo("Europe/London")
# Both in the past: the test client's session is made at the real time and must not have expired.
MONDAY = datetime.datetime(2026, 3, 2, 9, 30, tzinfo=LONDON)
SIX_MONTHS_ON = datetime.datetime(2026, 9, 7, 14, 0, tzinfo=LONDON)


def entry(framework, identifier: str) -> SoAEntry:
    return SoAEntry.objects.select_related("requirement").get(
        requirement__framework=framework, requirement__identifier=identifier
    )


def requirement(framework, identifier: str):
    return framework.requirements.get(identifier=identifier)


def edit(client, line: SoAEntry, **data):
    values = {"applicable": "True", "justification": "", "status": "planned", **data}
    return client.post(reverse("controls:soa_entry_edit", args=[line.pk]), values)


# --------------------------------------------------------------------------------------- working SoA


def test_without_the_annex_a_catalogue_the_page_says_who_loads_it(client_as, owner):
    response = client_as(owner).get(reverse("controls:soa"))

    assert response.status_code == 200
    assert "Ask the compliance team to load it" in response.content.decode()
    assert "not loaded yet" in response.content.decode()


def test_one_line_per_annex_a_control_grouped_by_theme(client_as, annex_a, owner):
    control = make_control(owner, requirements=[requirement(annex_a, "5.15"), requirement(annex_a, "8.2")])

    response = client_as(owner).get(reverse("controls:soa"))

    assert response.status_code == 200
    assert SoAEntry.objects.filter(requirement__framework=annex_a).count() == 93
    groups = response.context["groups"]
    assert [name for name, _ in groups] == [
        "Organizational controls",
        "People controls",
        "Physical controls",
        "Technological controls",
    ]
    assert [len(lines) for _, lines in groups] == [37, 8, 14, 34]
    body = response.content.decode()
    assert "Policies for information security" in body
    assert reverse("controls:detail", args=[control.pk]) in body
    # A control owner reads the SoA but does not edit it.
    assert reverse("controls:soa_entry_edit", args=[entry(annex_a, "5.1").pk]) not in body


def test_retired_requirements_have_no_line(client_as, annex_a, owner):
    annex_a.requirements.filter(identifier="5.7").update(retired=True)

    response = client_as(owner).get(reverse("controls:soa"))

    identifiers = [e.requirement.identifier for _, lines in response.context["groups"] for e in lines]
    assert len(identifiers) == 92 and "5.7" not in identifiers


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        ([], S.PLANNED),
        ([S.IMPLEMENTED], S.IMPLEMENTED),
        ([S.IMPLEMENTED, S.IMPLEMENTED], S.IMPLEMENTED),
        ([S.IMPLEMENTED, S.PLANNED], S.PARTIAL),
        ([S.PARTIAL], S.PARTIAL),
        ([S.PLANNED, S.PLANNED], S.PLANNED),
        ([S.IMPLEMENTED, S.NOT_APPLICABLE], S.IMPLEMENTED),
        ([S.NOT_APPLICABLE], S.PLANNED),
    ],
)
def test_suggested_status_follows_the_mapped_controls(statuses, expected):
    assert selectors.suggested_status(statuses) == expected


def test_new_lines_start_from_the_mapped_controls_status(annex_a, owner):
    make_control(owner, "AC-01", requirements=[requirement(annex_a, "5.15"), requirement(annex_a, "5.18")])
    planned = make_control(owner, "AC-02", requirements=[requirement(annex_a, "5.18")])
    planned.status = S.PLANNED
    planned.save()

    assert services.soa_entries_ensure(annex_a) == 93
    assert services.soa_entries_ensure(annex_a) == 0  # idempotent

    assert entry(annex_a, "5.15").status == S.IMPLEMENTED
    assert entry(annex_a, "5.18").status == S.PARTIAL
    assert entry(annex_a, "5.1").status == S.PLANNED
    assert entry(annex_a, "5.1").applicable is True


# ----------------------------------------------------------------------------------------- editing


def test_a_manager_edits_a_line_on_its_own_page(client_as, annex_a, compliance):
    services.soa_entries_ensure(annex_a)
    line = entry(annex_a, "5.7")
    client = client_as(compliance)

    page = client.get(reverse("controls:soa_entry_edit", args=[line.pk]))
    assert page.status_code == 200
    assert "5.7 Threat intelligence" in page.content.decode()

    response = edit(client, line, justification="Required by our main customer's contract.", status="partial")

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('controls:soa')}#entry-{line.pk}"
    line.refresh_from_db()
    assert (line.applicable, line.status, line.updated_by) == (True, S.PARTIAL, compliance)
    assert line.justification == "Required by our main customer's contract."


def test_an_exclusion_needs_a_justification(client_as, annex_a, compliance):
    services.soa_entries_ensure(annex_a)
    line = entry(annex_a, "7.5")

    response = edit(client_as(compliance), line, applicable="False", justification="   ")

    assert response.status_code == 200
    assert "An excluded control needs a justification" in response.content.decode()
    assert response.context["form"].errors == {
        "justification": ["An excluded control needs a justification: say why it does not apply to your organisation."]
    }
    line.refresh_from_db()
    assert line.applicable is True


def test_an_excluded_line_is_recorded_as_not_applicable(client_as, annex_a, compliance):
    services.soa_entries_ensure(annex_a)
    line = entry(annex_a, "7.5")

    edit(client_as(compliance), line, applicable="False", justification="No premises of our own.", status="partial")

    line.refresh_from_db()
    assert (line.applicable, line.status) == (False, S.NOT_APPLICABLE)


def test_inline_editing_with_htmx_swaps_the_row(client_as, annex_a, compliance):
    services.soa_entries_ensure(annex_a)
    line = entry(annex_a, "7.5")
    client = client_as(compliance)
    url = reverse("controls:soa_entry_edit", args=[line.pk])

    form = client.get(url, headers={"HX-Request": "true"})
    assert [t.name for t in form.templates][0] == "controls/soa_row_form.html"
    assert f'data-hx-post="{url}"' in form.content.decode()

    invalid = client.post(url, {"applicable": "False", "justification": ""}, headers={"HX-Request": "true"})
    assert invalid.status_code == 200  # htmx swaps only 2xx: the row shows the error in place
    assert "is-invalid" in invalid.content.decode()
    assert "An excluded control needs a justification" in invalid.content.decode()

    saved = client.post(
        url,
        {"applicable": "False", "justification": "No premises of our own.", "status": "planned"},
        headers={"HX-Request": "true"},
    )
    body = saved.content.decode()
    assert f'<tr id="entry-{line.pk}"' in body and "No premises of our own." in body
    assert 'id="soa-summary"' in body and 'data-hx-swap-oob="true"' in body  # the counts follow the edit

    cancel = client.get(reverse("controls:soa_entry", args=[line.pk]), headers={"HX-Request": "true"})
    assert f'<tr id="entry-{line.pk}"' in cancel.content.decode()


# ---------------------------------------------------------------------------------------- approving


def test_approving_twice_makes_versions_1_and_2_frozen_as_approved(client_as, annex_a, approver, owner):
    control = make_control(owner, requirements=[requirement(annex_a, "5.15")])
    client = client_as(approver)
    client.get(reverse("controls:soa"))
    line = entry(annex_a, "5.15")
    edit(client, line, justification="Risk R-3: unauthorised access.", status="implemented")

    with time_machine.travel(MONDAY, tick=False):
        first = client.post(reverse("controls:soa_approve"), {"note": "First SoA for stage 1"})
    v1 = SoAVersion.objects.get()
    assert first.status_code == 302 and first["Location"] == reverse("controls:soa_version", args=[v1.pk])
    assert (v1.number, v1.approved_by, v1.approved_at) == (1, approver, MONDAY)
    assert v1.note == "First SoA for stage 1"
    assert len(v1.entries) == 93
    frozen = next(line for line in v1.entries if line["identifier"] == "5.15")
    assert frozen == {
        "identifier": "5.15",
        "title": "Access control",
        "group": "Organizational controls",
        "position": 15,
        "applicable": True,
        "justification": "Risk R-3: unauthorised access.",
        "status": "implemented",
        "status_label": "Implemented",
        "controls": [{"reference": "AC-01", "name": "User access management", "status": "implemented"}],
    }

    # Later edits: the working line, the control, the catalogue title.
    edit(client, line, justification="Rewritten after the risk review.", status="partial")
    control.name = "Renamed control"
    control.save()
    annex_a.requirements.filter(identifier="5.15").update(title="Access control (renamed)")

    with time_machine.travel(SIX_MONTHS_ON, tick=False):
        client.post(reverse("controls:soa_approve"), {"note": ""})
    v2 = SoAVersion.objects.get(number=2)
    assert (v2.approved_by, v2.approved_at, v2.note) == (approver, SIX_MONTHS_ON, "")

    v1.refresh_from_db()
    assert next(line for line in v1.entries if line["identifier"] == "5.15") == frozen
    page = client.get(reverse("controls:soa_version", args=[v1.pk])).content.decode()
    assert "Risk R-3: unauthorised access." in page
    assert "Rewritten after the risk review." not in page
    assert "Renamed control" not in page and "Access control (renamed)" not in page
    assert "Alice Approver" in page and "2 March 2026, 09:30" in page

    versions = client.get(reverse("controls:soa_versions")).content.decode()
    assert "Version 2" in versions and "Version 1" in versions


def test_approval_is_refused_while_an_exclusion_has_no_justification(client_as, annex_a, compliance):
    services.soa_entries_ensure(annex_a)
    SoAEntry.objects.filter(requirement__identifier__in=["7.5", "7.6"]).update(applicable=False, justification="")
    client = client_as(compliance)

    page = client.get(reverse("controls:soa_approve"))
    assert "Approval is not possible" in page.content.decode()

    response = client.post(reverse("controls:soa_approve"), {"note": "try"}, follow=True)

    assert not SoAVersion.objects.exists()
    message = [str(m) for m in response.context["messages"]]
    assert message == ["Not approved: every excluded control needs a justification. Missing for 7.5, 7.6."]
    with pytest.raises(services.SoAApprovalRefused):
        services.soa_approve(framework=annex_a, by=compliance)

    SoAEntry.objects.filter(requirement__identifier__in=["7.5", "7.6"]).update(justification="Fully remote.")
    assert services.soa_approve(framework=annex_a, by=compliance).number == 1


def test_approving_without_the_catalogue_sends_back_to_the_soa(client_as, compliance):
    response = client_as(compliance).post(reverse("controls:soa_approve"), {"note": ""})

    assert response.status_code == 302 and response["Location"] == reverse("controls:soa")
    assert not SoAVersion.objects.exists()


# ------------------------------------------------------------------------------------------ the diff


def line(identifier, **fields):
    return {
        "identifier": identifier,
        "title": f"Control {identifier}",
        "group": "Organizational controls",
        "applicable": True,
        "justification": "Risk",
        "status": "implemented",
        "status_label": "Implemented",
        "controls": [],
        **fields,
    }


def test_diff_of_two_snapshots_is_a_pure_function():
    before = [line("5.1"), line("5.2"), line("5.3"), line("5.4")]
    after = [
        line("5.1"),
        line("5.2", justification="Contract with Acme"),
        line("5.3", applicable=False, justification="No suppliers", status="not_applicable", status_label="N/A"),
        line("5.5"),
    ]

    diff = soa_diff(before, after)

    assert [added["identifier"] for added in diff.added] == ["5.5"]
    assert [removed["identifier"] for removed in diff.removed] == ["5.4"]
    assert diff.unchanged == 1
    assert [(c.identifier, [(f.field, f.before, f.after) for f in c.changes]) for c in diff.changed] == [
        ("5.2", [("justification", "Risk", "Contract with Acme")]),
        (
            "5.3",
            [
                ("applicable", "Yes", "No (excluded)"),
                ("justification", "Risk", "No suppliers"),
                ("status", "Implemented", "N/A"),
            ],
        ),
    ]
    assert soa_diff(after, after).has_changes is False


def test_the_changes_page_shows_what_was_and_what_is(client_as, annex_a, compliance, owner):
    make_control(owner, "AC-01", requirements=[requirement(annex_a, "5.15")])
    client = client_as(compliance)
    client.get(reverse("controls:soa"))
    edit(client, entry(annex_a, "5.1"), justification="ISMS policy is mandatory.", status="implemented")
    v1 = services.soa_approve(framework=annex_a, by=compliance)

    # A changed justification, an exclusion, a newly mapped control.
    edit(client, entry(annex_a, "5.1"), justification="Board-approved policy set.", status="implemented")
    edit(client, entry(annex_a, "7.5"), applicable="False", justification="We have no premises.")
    make_control(owner, "BC-01", "Backups", requirements=[requirement(annex_a, "8.13")])
    v2 = services.soa_approve(framework=annex_a, by=compliance)

    diff = soa_diff(v1.entries, v2.entries)
    changes = {c.identifier: {f.field: f for f in c.changes} for c in diff.changed}
    assert set(changes) == {"5.1", "7.5", "8.13"}
    assert set(changes["5.1"]) == {"justification"}
    assert (changes["5.1"]["justification"].before, changes["5.1"]["justification"].after) == (
        "ISMS policy is mandatory.",
        "Board-approved policy set.",
    )
    assert set(changes["7.5"]) == {"applicable", "justification", "status"}
    assert changes["7.5"]["applicable"].after == "No (excluded)"
    assert changes["7.5"]["status"].after == "Not applicable"
    assert set(changes["8.13"]) == {"controls"}
    assert changes["8.13"]["controls"].added == ["BC-01 Backups"]
    assert (changes["8.13"]["controls"].before, changes["8.13"]["controls"].after) == ("none", "BC-01 Backups")
    assert diff.added == diff.removed == [] and diff.unchanged == 90

    page = client.get(reverse("controls:soa_diff", args=[v2.pk]))
    body = page.content.decode()
    assert page.status_code == 200
    assert "Version 1 → version 2" in body
    assert "<del" in body and "ISMS policy is mandatory." in body and "Board-approved policy set." in body
    assert "We have no premises." in body and "+ BC-01 Backups" in body
    assert 'data-identifier="5.15"' not in body  # unchanged lines are not listed
    assert "90 unchanged" in body

    first = client.get(reverse("controls:soa_diff", args=[v1.pk])).content.decode()
    assert "nothing before it to compare with" in first


def test_the_approve_page_shows_unapproved_changes(client_as, annex_a, compliance):
    client = client_as(compliance)
    client.get(reverse("controls:soa"))
    services.soa_approve(framework=annex_a, by=compliance)
    assert "no change since" in client.get(reverse("controls:soa")).content.decode()

    edit(client, entry(annex_a, "6.3"), justification="Awareness is required by policy.", status="implemented")

    assert "1 line changed since" in client.get(reverse("controls:soa")).content.decode()
    body = client.get(reverse("controls:soa_approve")).content.decode()
    assert "What changed since version 1" in body and "Awareness is required by policy." in body
    assert "Approve as version 2" in body


# ----------------------------------------------------------------------------------------- queries


def queries_for_the_soa_page(client) -> int:
    client.get(reverse("controls:soa"))  # the first visit creates the lines
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse("controls:soa"))
    assert response.status_code == 200
    return len(captured)


def test_the_soa_page_takes_a_constant_number_of_queries(client_as, annex_a, compliance, owner):
    client = client_as(compliance)
    make_control(owner, "AC-01", requirements=[requirement(annex_a, "5.15")])
    services.soa_approve(framework=annex_a, by=compliance)
    few = queries_for_the_soa_page(client)

    requirements = list(annex_a.requirements.all())
    for n in range(40):
        make_control(owner, f"C-{n:02}", f"Control {n}", requirements=requirements[n : n + 5])
    services.soa_approve(framework=annex_a, by=compliance)
    many = queries_for_the_soa_page(client)

    assert few == many


def test_the_approvers_name_is_frozen_with_the_version(client_as, annex_a, approver, viewer):
    version = services.soa_approve(framework=annex_a, by=approver, note="First approval")
    approver.first_name, approver.last_name = "Alice", "Married-Name"
    approver.save(update_fields=["first_name", "last_name"])
    version.refresh_from_db()
    assert version.approver == "Alice Approver"
    page = client_as(viewer).get(reverse("controls:soa_versions")).content.decode()
    assert "Alice Approver" in page and "Married-Name" not in page
