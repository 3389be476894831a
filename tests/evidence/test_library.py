"""The evidence library: search and filters each narrow the list, 50 to a page, in a fixed number of queries."""

import re
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from evidence.models import EvidenceItem
from evidence.services import evidence_add_file, evidence_add_link, evidence_add_note, evidence_delete
from tests.evidence.conftest import D, upload
from tests.factories import make_control, make_requirement

HTMX = {"HX-Request": "true"}  # what the filter boxes' script sends


def listed(client, **params) -> set[int]:
    response = client.get(reverse("evidence:index"), params)
    assert response.status_code == 200
    return {item.pk for item in response.context["page"].object_list}


@pytest.fixture
def library(world, owner, other_owner, compliance, admin_user):
    """Besides the world's two files: a link on Olga's control from the API, a note on a requirement mapped to
    her control via an emailed task link, a corrected report and a deleted one."""
    gdpr = make_requirement(framework_code="gdpr", identifier="Art. 28", title="Processor")
    world["theirs"].requirements.add(gdpr)
    api_link = evidence_add_link(
        url="https://ci.example.com/runs/77",
        title="CI dependency scan",
        by=compliance,
        source="api",
        control=world["theirs"],
        effective_date=D(2025, 6, 1),
    )
    dpa_note = evidence_add_note(
        note="DPA signed with the payroll processor",
        by=compliance,
        source="task_link",
        requirement=gdpr,
        effective_date=D(2026, 2, 1),
        period_start=D(2026, 1, 1),
        period_end=D(2026, 12, 31),
    )
    old = evidence_add_file(
        upload=upload("firewall-old.txt"),
        title="Firewall review",
        by=owner,
        source="web",
        control=world["mine"],
        effective_date=D(2025, 11, 3),
    )
    new = evidence_add_file(
        upload=upload("firewall-new.txt"),
        title="Firewall review",
        by=owner,
        source="web",
        supersedes=old,
        correction_reason="The first export was cut short.",
        effective_date=D(2025, 11, 3),
    )
    gone = evidence_add_note(note="Payroll export (wrong file)", by=owner, source="web", control=world["mine"])
    evidence_delete(item=gone, by=admin_user, reason="Personal data uploaded by mistake")
    return {**world, "gdpr": gdpr, "api_link": api_link, "dpa_note": dpa_note, "old": old, "new": new, "gone": gone}


def test_each_filter_narrows_the_list(client, compliance, owner, other_owner, library):
    L = library
    client.force_login(compliance)
    live = {L["mine_file"].pk, L["theirs_file"].pk, L["api_link"].pk, L["dpa_note"].pk, L["new"].pk}
    assert listed(client) == live
    assert listed(client, q="firewall") == {L["new"].pk}
    assert listed(client, q="HR-01.txt") == {L["theirs_file"].pk}  # the original file name
    assert listed(client, control=L["mine"].pk) == {L["mine_file"].pk, L["new"].pk}
    assert listed(client, control=L["theirs"].pk) == {L["theirs_file"].pk, L["api_link"].pk}
    # A requirement: its own evidence and that of every mapped control (GDPR Art. 28 is mapped to HR-01).
    assert listed(client, requirement=L["gdpr"].pk) == {L["dpa_note"].pk, L["theirs_file"].pk, L["api_link"].pk}
    assert listed(client, requirement=L["requirement"].pk) == {L["mine_file"].pk, L["new"].pk}
    assert listed(client, submitted_by=other_owner.pk) == {L["theirs_file"].pk}
    assert listed(client, department=other_owner.department.pk) == {L["theirs_file"].pk, L["api_link"].pk}
    assert listed(client, date_from="2026-01-01", date_to="2026-02-28") == {
        L["dpa_note"].pk,
        L["mine_file"].pk,
        L["theirs_file"].pk,
    }
    # A task's evidence takes effect on the day the task was done (4 Feb), not the day it was filed.
    assert listed(client, date_from="2026-02-04", date_to="2026-02-04") == {L["mine_file"].pk, L["theirs_file"].pk}
    assert listed(client, date_from="2025-06-01", date_to="2025-12-31") == {L["api_link"].pk, L["new"].pk}
    assert listed(client, source="api") == {L["api_link"].pk}
    assert listed(client, source="task_link") == {L["dpa_note"].pk}
    assert listed(client, type="link") == {L["api_link"].pk}
    assert listed(client, type="note") == {L["dpa_note"].pk}
    assert listed(client, all_versions="on") == live | {L["old"].pk, L["gone"].pk}
    assert listed(client, all_versions="on", q="firewall") == {L["old"].pk, L["new"].pk}
    # Filters combine.
    assert listed(client, control=L["mine"].pk, type="file", submitted_by=owner.pk, q="firewall") == {L["new"].pk}
    # A filter that makes no sense is shown as an error and left out, not a crash.
    response = client.get(reverse("evidence:index"), {"control": "999999", "date_from": "yesterday"})
    assert response.status_code == 200 and response.context["form"].errors


def test_rows_show_versions_and_tombstones(client, compliance, library):
    client.force_login(compliance)
    body = client.get(reverse("evidence:index"), {"all_versions": "on"}).content.decode()
    assert "Superseded" in body and "Deleted" in body and ">v2<" in body
    for item in ("old", "new", "gone", "api_link"):
        assert reverse("evidence:detail", args=[library[item].pk]) in body


def test_pagination_fifty_to_a_page_keeping_the_filters(client, compliance, world):
    for n in range(120):
        evidence_add_note(note=f"Daily log check {n}", by=compliance, source="api", control=world["mine"])
    client.force_login(compliance)
    first = client.get(reverse("evidence:index"), {"source": "api"})
    assert len(first.context["page"].object_list) == 50 and first.context["page"].paginator.count == 120
    body = first.content.decode()
    assert "Page 1 of 3" in body and "?source=api&page=2" in body
    last = client.get(reverse("evidence:index"), {"source": "api", "page": 3})
    assert len(last.context["page"].object_list) == 20
    pages = [client.get(reverse("evidence:index"), {"source": "api", "page": p}).context["page"] for p in (1, 2, 3)]
    seen = [item.pk for page in pages for item in page.object_list]
    assert len(seen) == len(set(seen)) == 120  # every item once, none twice
    assert client.get(reverse("evidence:index"), {"page": "999"}).status_code == 200  # the last page instead


def test_the_library_takes_the_same_number_of_queries_for_few_or_many_items(client, compliance, owner, world):
    client.force_login(compliance)

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(reverse("evidence:index"), {"all_versions": "on"})
        assert response.status_code == 200
        return len(ctx.captured_queries)

    few = queries()
    other = make_control(owner, reference="BC-01", requirements=[make_requirement(identifier="8.13", title="Backup")])
    for n in range(30):
        item = evidence_add_file(
            upload=upload(f"restore-{n}.txt"), by=owner, source="web", control=other, occurrence=world["mine_occ"]
        )
        evidence_add_note(note=f"fixed {n}", by=compliance, source="web", supersedes=item, correction_reason="typo")
    assert EvidenceItem.objects.count() > 60
    assert queries() == few


def test_owner_sees_the_filters_but_only_their_reach(client, owner, library):
    client.force_login(owner)
    assert listed(client, control=library["theirs"].pk) == set()
    assert listed(client, all_versions="on") == {
        library["mine_file"].pk,
        library["old"].pk,
        library["new"].pk,
        library["gone"].pk,
    }


def test_a_large_library_says_more_than_the_cap_instead_of_counting_every_item(client, compliance, world, monkeypatch):
    """Past the counting cap the page says "more than", never a made-up total; below it, the exact count."""
    from evidence import views

    for n in range(12):
        evidence_add_note(note=f"Access log review {n}", by=compliance, source="api", control=world["mine"])
    client.force_login(compliance)
    monkeypatch.setattr(views, "LIBRARY_COUNT_CAP", 10)
    many = client.get(reverse("evidence:index"), {"source": "api"})
    few = client.get(reverse("evidence:index"), {"source": "api", "q": "review 1"})  # 1, 10 and 11
    assert "More than 10 items" in many.content.decode()
    assert "narrow the search" in many.content.decode()
    assert "3 items." in few.content.decode() and "More than" not in few.content.decode()


def test_the_filter_bar_offers_every_choice_and_keeps_the_chosen_ones(client, compliance, library):
    """Control, requirement and person are typed boxes with suggestions (a drop-down of ~1,000 options cost half
    the page): each control, requirement and person can be found in the suggestions, a chosen one stays shown in
    its box by name (also when a link named it by id), and the short lists stay drop-downs with their choice."""
    client.force_login(compliance)
    mine, theirs, gdpr = library["mine"], library["theirs"], library["gdpr"]
    body = client.get(reverse("evidence:index"), {"control": mine.pk, "type": "link"}).content.decode()
    assert f'name="control" id="id_control" value="{mine.reference} {mine.name}"' in body
    assert 'list="id_control-suggestions"' in body and '<datalist id="id_control-suggestions"></datalist>' in body
    assert '<option value="link" selected>Link</option>' in body and '<option value="">Any kind</option>' in body
    assert f'<option value="{theirs.pk}"' not in body  # no list of every control on the page

    def suggested(field, text="") -> list[str]:
        response = client.get(reverse("evidence:suggest", args=[field]), {field: text}, headers=HTMX)
        assert response.status_code == 200
        return re.findall(r'<option value="([^"]*)"></option>', response.content.decode())

    assert suggested("control") == [f"{mine.reference} {mine.name}", f"{theirs.reference} {theirs.name}"]
    assert suggested("control", "scree") == [f"{theirs.reference} {theirs.name}"]
    assert f"{gdpr.framework.name} · Art. 28 Processor" in suggested("requirement", "processor")
    assert suggested("submitted_by", "olga") == ["Olga Berg (olga)"]
    # Each suggestion typed back names its row; so does a unique reference or words that match only one.
    for params in (
        {"control": f"{mine.reference} {mine.name}"},
        {"control": "ac-01"},
        {"control": "user access"},
        {"requirement": f"{gdpr.framework.name} · Art. 28 Processor"},
        {"submitted_by": "Olga Berg (olga)"},
    ):
        response = client.get(reverse("evidence:index"), params)
        assert not response.context["form"].errors, params
    assert listed(client, control="user access") == {library["mine_file"].pk, library["new"].pk}
    assert listed(client, requirement="Art. 28 processor") == {
        library["dpa_note"].pk,
        library["theirs_file"].pk,
        library["api_link"].pk,
    }
    body = client.get(reverse("evidence:index"), {"submitted_by": "Olga Berg (olga)"}).content.decode()
    assert 'value="Olga Berg (olga)"' in body
    # An id that names nothing is a message next to the box, which keeps what was typed.
    body = client.get(reverse("evidence:index"), {"control": "999999"}).content.decode()
    assert 'name="control" id="id_control" value="999999"' in body and 'aria-invalid="true"' in body
    assert "No control matches “999999”" in body


def test_words_that_name_no_single_row_are_a_message_and_the_list_stays_unfiltered(client, compliance, library):
    client.force_login(compliance)
    everything = listed(client)
    for params, message in (
        ({"control": "firewall"}, "No control matches “firewall”"),
        ({"control": "-01"}, "Several controls match “-01” (AC-01 User access management; HR-01 Screening)"),
        ({"submitted_by": "nobody at all"}, "No person matches “nobody at all”"),
        ({"requirement": "x" * 300}, "Type at most 200 characters"),
        ({"control": "%"}, "No control matches “%”"),  # a LIKE wildcard is a plain character
        ({"control": "0"}, "Several controls match “0”"),  # not an id here: the digit is in AC-01 and HR-01
    ):
        response = client.get(reverse("evidence:index"), params)
        assert response.status_code == 200
        assert message in response.content.decode(), params
        assert {item.pk for item in response.context["page"].object_list} == everything


def test_suggestions_list_only_what_the_person_may_see(client, owner, auditor, library, monkeypatch):
    """The boxes suggest through the reach rule: a row outside it is neither suggested nor accepted by name.
    Retired requirements and people who cannot submit (deactivated, auditors) are not offered either."""
    from controls.reach import ControlRule

    library["gdpr"].retired = True
    library["gdpr"].save()
    client.force_login(owner)
    monkeypatch.setattr(ControlRule, "visible", lambda self, user, qs: qs.filter(owner=user))
    response = client.get(reverse("evidence:suggest", args=["control"]), {"control": ""}, headers=HTMX)
    assert response.content.decode() == '<option value="AC-01 User access management"></option>'
    assert "No control matches “HR-01”" in client.get(reverse("evidence:index"), {"control": "HR-01"}).content.decode()
    requirement_labels = client.get(
        reverse("evidence:suggest", args=["requirement"]), {"requirement": ""}, headers=HTMX
    )
    assert "Processor" not in requirement_labels.content.decode()
    people = client.get(
        reverse("evidence:suggest", args=["submitted_by"]), {"submitted_by": ""}, headers=HTMX
    ).content.decode()
    assert "(owner)" in people and "(olga)" in people and "(auditor)" not in people
    # Anything but the three boxes is not a list; an auditor does not use the library at all.
    assert client.get(reverse("evidence:suggest", args=["department"]), headers=HTMX).status_code == 404
    long = client.get(reverse("evidence:suggest", args=["control"]), {"control": "x" * 5000}, headers=HTMX)
    assert long.status_code == 200 and long.content == b""
    # Opened as a page rather than by the box: the library, filtered by the words.
    page = client.get(reverse("evidence:suggest", args=["control"]), {"control": "user access"})
    assert page.status_code == 302 and page["Location"] == reverse("evidence:index") + "?control=user+access"
    client.force_login(auditor)
    assert client.get(reverse("evidence:suggest", args=["control"]), headers=HTMX).status_code == 403


def test_the_rows_written_in_one_pass_are_the_template_rows(client, compliance, library):
    """library_rows gives the markup of the template loop it replaced (spaces aside), for every kind of row:
    deleted, superseded, a second version, a file with its original name, a task's, a requirement's, a period."""
    import re as regex

    from django.template import Context, Template

    from evidence.selectors import LibraryFilters, library_queryset
    from evidence.templatetags.library_rows import library_rows

    items = list(library_queryset(compliance, LibraryFilters(all_versions=True)))
    assert len(items) == 7 and any(i.is_superseded for i in items) and any(i.deleted_at for i in items)
    # The rows as the page's template wrote them before library_rows.
    reference = Path(__file__).with_name("library_rows_reference.html").read_text()
    expected = Template(reference).render(Context({"page": {"object_list": items}}))

    def spaced(html: str) -> str:
        return regex.sub(r"\s+", " ", html).strip()

    assert spaced(library_rows(items)) == spaced(expected)
