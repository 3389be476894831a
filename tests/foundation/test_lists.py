"""A list page declared with ListPage (the controls list is the worked example): filters survive turning pages
and sorting, a bad page number still shows a page, htmx gets only the results, downloads hold every filtered
row, and the page costs the same number of queries whatever the number of rows."""

import csv
import io
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from controls.models import Control
from tests.factories import make_control

URL = reverse("controls:index")


@pytest.fixture
def controls(owner, compliance):
    """60 controls named "Backup …" owned by the control owner, and 5 "Access …" ones owned by compliance."""
    for n in range(60):
        make_control(owner, f"BK-{n:02}", f"Backup {n:02}")
    for n in range(5):
        make_control(compliance, f"AC-{n:02}", f"Access {n:02}")
    Control.objects.filter(reference="AC-03").update(status="planned")


def references(response) -> list[str]:
    return re.findall(r'<td class="text-nowrap">([A-Z]{2}-\d\d)</td>', response.content.decode())


def download_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_filters_are_kept_on_every_page(client_as, viewer, controls):
    client = client_as(viewer)

    first = client.get(URL, {"q": "backup", "sort": "-reference"})

    assert references(first)[:2] == ["BK-59", "BK-58"] and len(references(first)) == 50
    assert "1–50 of 60" in first.content.decode()
    next_link = re.search(r'href="(\?[^"]*page=2[^"]*)"', first.content.decode()).group(1).replace("&amp;", "&")
    assert "q=backup" in next_link and "sort=-reference" in next_link
    second = client.get(URL + next_link)
    assert references(second) == [f"BK-{n:02}" for n in range(9, -1, -1)]
    assert 'value="backup"' in second.content.decode()  # the filter bar still shows the search


@pytest.mark.parametrize(("page", "first_ref"), [("abc", "AC-00"), ("999", "BK-45"), ("-2", "AC-00"), ("1.5", "AC-00")])
def test_a_bad_page_number_shows_the_first_or_last_page(client_as, viewer, controls, page, first_ref):
    response = client_as(viewer).get(URL, {"page": page})

    assert response.status_code == 200
    assert references(response)[0] == first_ref


def test_status_and_mine_filters(client_as, owner, compliance, controls):
    assert references(client_as(owner).get(URL, {"status": "planned"})) == ["AC-03"]
    assert references(client_as(compliance).get(URL, {"mine": "1"})) == [f"AC-{n:02}" for n in range(5)]
    # A value that is not a status is ignored, as before.
    assert len(references(client_as(owner).get(URL, {"status": "nonsense"}))) == 50


def test_an_htmx_request_gets_only_the_results(client_as, viewer, controls):
    client = client_as(viewer)

    partial = client.get(URL, {"q": "access"}, headers={"HX-Request": "true"})
    boosted = client.get(URL, {"q": "access"}, headers={"HX-Request": "true", "HX-Boosted": "true"})
    restore = client.get(URL, headers={"HX-Request": "true", "HX-History-Restore-Request": "true"})

    body = partial.content.decode()
    assert body.lstrip().startswith('<div id="list-results"') and "<html" not in body
    assert references(partial) == [f"AC-{n:02}" for n in range(5)]
    assert "HX-Request" in partial["Vary"]
    assert "<html" in boosted.content.decode()  # a boosted link is a whole page
    assert "<html" in restore.content.decode()  # so is restoring history


def test_downloads_hold_every_filtered_row_in_the_page_order(client_as, viewer, owner, controls):
    client = client_as(viewer)

    rows = download_rows(client.get(URL, {"q": "backup", "sort": "-reference", "page": "2", "export": "csv"}))

    assert rows[0] == ["Ref.", "Control", "Owner", "Department", "Status", "Requirements"]
    assert [row[0] for row in rows[1:]] == [f"BK-{n:02}" for n in range(59, -1, -1)]  # all 60, not one page
    assert rows[1][2:] == [str(owner), "IT", "Implemented", "0"]  # plain values, no links or markup

    response = client.get(URL, {"status": "planned", "export": "xlsx"})
    assert response["Content-Disposition"].startswith('attachment; filename="controls-')
    sheet = load_workbook(io.BytesIO(response.content))["Controls"]
    assert [row[0] for row in sheet.iter_rows(values_only=True)] == ["Ref.", "AC-03"]

    assert client.get(URL, {"export": "json"}).status_code == 404


def test_a_download_guards_against_formulas(client_as, viewer, owner):
    make_control(owner, "X-01", '=HYPERLINK("http://x")')

    rows = download_rows(client_as(viewer).get(URL, {"export": "csv"}))

    assert rows[1][1] == '\'=HYPERLINK("http://x")'


def test_an_empty_list_says_how_to_fill_it_and_a_filter_that_matches_nothing_says_so(client_as, viewer, owner):
    client = client_as(viewer)

    assert "No controls yet." in client.get(URL).content.decode()
    make_control(owner)
    body = client.get(URL, {"q": "nothing like this"}).content.decode()
    assert "Nothing matches these filters." in body and "Clear filters" in body


def test_a_constant_number_of_queries_whatever_the_rows(client_as, viewer, owner):
    client = client_as(viewer)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(URL, {"sort": "owner"}).status_code == 200
            assert client.get(URL, {"export": "csv"}).status_code == 200
        return len(captured)

    for n in range(5):
        make_control(owner, f"F-{n:02}", f"Few {n}")
    few = queries()
    for n in range(45):
        make_control(owner, f"M-{n:02}", f"Many {n}")
    assert few == queries()
