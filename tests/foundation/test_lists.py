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


def test_rows_are_drawn_as_django_tables2_draws_them(rf, viewer, owner, controls):
    """table_rows (the cheap rows every ListPage draws) gives the HTML of django-tables2's own row.items: the same
    cells, links, attributes and row classes, for a table with links and cell classes and one with row classes."""
    import itertools

    from django.template import Context, Template
    from django_tables2 import RequestConfig

    from controls.selectors import control_list
    from controls.tables import ControlTable
    from isms.foundation.lists import table_rows
    from isms.maintenance.models import Schedule
    from isms.maintenance.tables import ScheduleTable
    from tests.factories import make_schedule

    make_schedule(owner=owner, title="Quarterly restore test")
    Schedule.objects.update(active=False)  # a row class from a callable row_attrs
    reference = Template(
        "{% for row in table.paginated_rows %}<tr {{ row.attrs.as_html }}>{% for column, cell in row.items %}"
        "<td {{ column.attrs.td.as_html }}>{{ cell }}</td>{% endfor %}</tr>{% endfor %}"
    )
    for table in (ControlTable(control_list()), ScheduleTable(Schedule.objects.select_related("owner"))):
        RequestConfig(rf.get("/", {"sort": "-owner"}), paginate=False).configure(table)
        table.paginate(per_page=50)
        table._counter = itertools.count()
        expected = reference.render(Context({"table": table}))
        table._counter = itertools.count()  # rows alternate even/odd from the table's counter: start it again
        assert "".join(table_rows(table)) == expected and "<a href=" in expected and 'class="' in expected


def test_a_capped_list_counts_no_further_than_its_cap(client_as, viewer, controls, monkeypatch):
    """ListPage(count_cap=…): past the cap the page says "more than" and never a total it did not count; at or
    below it, the exact count. The pages still turn, keeping the filters."""
    import dataclasses

    from controls import views
    from isms.foundation.lists import CappedPaginator

    monkeypatch.setattr(views, "CONTROLS", dataclasses.replace(views.CONTROLS, count_cap=20, per_page=10))
    client = client_as(viewer)
    with CaptureQueriesContext(connection) as captured:
        capped = client.get(URL, {"q": "backup"})
    body = capped.content.decode()
    assert "1–10 of more than 20" in body and "Page 1 of more than 2" in body and "of 60" not in body
    assert any("LIMIT 21" in q["sql"] for q in captured) and not any(
        "COUNT(*)" in q["sql"] and "LIMIT" not in q["sql"] for q in captured
    )
    assert references(client.get(URL, {"q": "backup", "page": "2"}))[0] == "BK-10"
    exact = client.get(URL, {"q": "access"}).content.decode()
    assert "1–5 of 5" in exact and "more than" not in exact

    paginator = CappedPaginator(Control.objects.order_by("reference"), 10, cap=64)
    assert (paginator.count, paginator.is_capped, paginator.num_pages) == (64, True, 7)
    paginator = CappedPaginator(Control.objects.order_by("reference"), 10, cap=65)
    assert (paginator.count, paginator.is_capped) == (65, False)
    assert paginator.get_page("nonsense").number == 1 and paginator.page("99").number == 7  # forgiving


def test_filter_drop_downs_are_drawn_as_django_draws_them(owner, other_owner, department):
    """inline_select_options (every ListPage's filter bar) writes the options in: the same HTML as Django's own
    select template, for a plain list, one with a choice made and a list of people."""
    from isms.foundation.lists import inline_select_options
    from isms.maintenance.filtersets import ScheduleFilterSet
    from isms.maintenance.models import Schedule

    for data in (None, {"kind": "control", "owner": str(owner.pk), "active": "no"}):
        plain = ScheduleFilterSet(data, queryset=Schedule.objects.all()).form
        inlined = ScheduleFilterSet(data, queryset=Schedule.objects.all()).form
        inline_select_options(inlined)
        assert inlined["owner"].field.widget.template_name == "foundation/widgets/select.html"
        for name in ("kind", "owner", "department", "active"):
            assert str(inlined[name]) == str(plain[name]), name
    assert f'<option value="{owner.pk}" selected>' in str(inlined["owner"])


@pytest.mark.parametrize("language", ["en-gb", "fr"])
def test_the_row_date_filters_write_what_djangos_date_filter_writes(language, settings):
    """`day` and `day_time` (cheap rows) give the text of `date:"j M Y"` and `date:"j M Y H:i"`, in the current
    time zone (a late evening in UTC is the next day in London in summer) and language; nothing for no date."""
    import datetime

    from django.template import Context, Template
    from django.utils import timezone, translation

    settings.TIME_ZONE = "Europe/London"
    values = [
        datetime.date(2026, 2, 4),
        timezone.make_aware(datetime.datetime(2026, 7, 4, 23, 30), datetime.UTC),
        timezone.make_aware(datetime.datetime(2026, 12, 31, 8, 5), datetime.UTC),
        None,
    ]
    ours = Template("{% load rows %}{% for v in values %}{{ v|day }}/{{ v|day_time }};{% endfor %}")
    django = Template(
        '{% for v in values %}{{ v|date:"j M Y" }}/{% if v.hour is not None %}{{ v|date:"j M Y H:i" }}{% endif %};'
        "{% endfor %}"
    )
    with translation.override(language), timezone.override("Europe/London"):
        assert ours.render(Context({"values": values})) == django.render(Context({"values": values}))
