"""List pages written once: filters, sorting, pagination, the htmx partial and the downloads of a list.

A domain declares what is particular to its list (which filters, which columns, what to say when it is empty)
and hands over a queryset already narrowed to what the user may see; everything a list page does besides is
here, so every list in the application behaves the same:

    CONTROLS = ListPage(
        title="Controls",
        filterset=ControlFilterSet,
        table=ControlTable,
        empty_text="No controls yet. Add one with “New control”.",
        template_name="controls/index.html",  # extends foundation/list.html
    )

    @role_required(STAFF)
    def index(request):
        return CONTROLS.render(request, selectors.control_list())

What a request can ask for, in the query string: the FilterSet's fields, `sort` (a column, `-column` for
descending), `page`, and `export=csv|xlsx` for every filtered row in the table's columns and order.

Fast by construction (docs/architecture.md, "How a new list page stays fast"): the rows are drawn by
`table_rows` (each column's cell attributes and render signature worked out once per page, not once per cell),
`count_cap` counts at most that many matches where an exact total is costly, and isms/foundation/search.py
gives text filters an index on PostgreSQL.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import django_filters
import django_tables2
from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import formats, timezone
from django.utils.cache import patch_vary_headers
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import slugify
from django_tables2.utils import signature

from .exports import Sheet, csv_response, xlsx_response

EXPORT_FORMATS = {"csv": "CSV", "xlsx": "Excel"}
NO_MATCH_TEXT = "Nothing matches these filters."


class ForgivingPaginator(Paginator):
    """A page number that is not a number gives the first page, one beyond the end the last: an old or edited
    link still shows a page, never an error."""

    def validate_number(self, number: Any) -> int:
        try:
            return super().validate_number(number)
        except PageNotAnInteger:
            return 1
        except EmptyPage:
            return 1 if int(number) < 1 else self.num_pages


class CappedPaginator(ForgivingPaginator):
    """Counts at most `cap` + 1 matches: an exact total up to `cap`, and past it only the fact that there are
    more (`is_capped`), with the first `cap` reachable page by page. For lists whose exact total is costly
    (counting 200,000 evidence items on every page took 41 ms of database time); a page never shows a total it
    did not count. `queryset` is what is counted when `object_list` is not a queryset (a table's rows)."""

    def __init__(self, object_list, per_page: int, *, cap: int, queryset: QuerySet | None = None, **kwargs) -> None:
        super().__init__(object_list, per_page, **kwargs)
        self.cap = cap
        self._counted = object_list if queryset is None else queryset

    @cached_property
    def _bounded_count(self) -> int:
        return self._counted.order_by().values("pk")[: self.cap + 1].count()

    @property
    def is_capped(self) -> bool:
        """More items match than were counted."""
        return self._bounded_count > self.cap

    @cached_property
    def count(self) -> int:
        return min(self._bounded_count, self.cap)


@dataclass(frozen=True)
class ListPage:
    """One list page, declared once at module level and rendered per request by `render`.

    title: the page heading, the sheet name and the start of download file names.
    filterset: a FilterSet over the queryset's model; its form is the page's filter bar.
    table: a Table; its columns are the page's and the downloads' (a `value_<column>` method gives a
        column's plain value for downloads when its cell on the page is a link or badge).
    empty_text: what the page says when there is nothing yet, and how to add the first one.
    template_name: the full page, extending "foundation/list.html"; partial_template_name: what an htmx
        request (filtering, sorting, turning pages in place) gets back.
    exports: the download formats offered (keys of EXPORT_FORMATS); empty for none.
    count_cap: count at most this many matches (CappedPaginator): past it the page says "more than" instead of
        a total. None (the default) counts exactly; use it where counting every match is costly.
    """

    title: str
    filterset: type[django_filters.FilterSet]
    table: type[django_tables2.Table]
    empty_text: str
    template_name: str = "foundation/list.html"
    partial_template_name: str = "foundation/_table.html"
    per_page: int = 50
    exports: tuple[str, ...] = ("csv", "xlsx")
    count_cap: int | None = None

    def render(
        self, request: HttpRequest, queryset: QuerySet, *, context: Mapping[str, Any] | None = None
    ) -> HttpResponse:
        """The page (or its htmx partial, or a download) for `queryset`, which the caller has already narrowed
        to the user's reach: filters and downloads only ever narrow it further."""
        filterset = self.filterset(request.GET or None, queryset=queryset, request=request)
        inline_select_options(filterset.form)
        filtered = (
            filterset.is_bound and filterset.is_valid() and any(_given(v) for v in filterset.form.cleaned_data.values())
        )
        table = self.table(filterset.qs, empty_text=NO_MATCH_TEXT if filtered else self.empty_text)
        django_tables2.RequestConfig(request, paginate=False).configure(table)  # ?sort=
        export = request.GET.get("export")
        if export:
            return self.export(table, export)
        page_number = request.GET.get("page") or 1
        if self.count_cap is None:
            table.paginate(paginator_class=ForgivingPaginator, per_page=self.per_page, page=page_number)
        else:
            table.paginate(
                paginator_class=CappedPaginator,
                per_page=self.per_page,
                page=page_number,
                cap=self.count_cap,
                queryset=filterset.qs,
            )
        page_context = {
            **(context or {}),
            "title": self.title,
            "filterset": filterset,
            "filtered": filtered,
            "table": table,
            "page": table.page,
            "rows": table_rows(table),
            "exports": [(key, EXPORT_FORMATS[key]) for key in self.exports],
        }
        htmx = getattr(request, "htmx", None)
        partial = bool(htmx) and not htmx.boosted and not htmx.history_restore_request
        response = render(request, self.partial_template_name if partial else self.template_name, page_context)
        patch_vary_headers(response, ["HX-Request"])  # the same URL answers with a page or a partial
        return response

    def export(self, table: django_tables2.Table, export_format: str) -> HttpResponse:
        """Every row of `table` (filtered and sorted as on the page, not only the current page) as a download."""
        if export_format not in self.exports:
            raise Http404("No such download.")
        rows = list(table.as_values())
        filename = f"{slugify(self.title) or 'list'}-{timezone.localdate():%Y-%m-%d}.{export_format}"
        if export_format == "csv":
            return csv_response(rows, filename)
        return xlsx_response([Sheet(self.title, rows)], filename)


DJANGO_SELECT = "django/forms/widgets/select.html"
INLINE_SELECT = "foundation/widgets/select.html"


def inline_select_options(form) -> None:
    """Draw `form`'s drop-downs with their options written in (the same HTML as Django's): Django includes a
    template per `<option>`, which for a list of 200 people is most of a filter bar's cost."""
    for field in form.fields.values():
        widget = field.widget
        if widget.template_name == DJANGO_SELECT and widget.option_template_name.startswith("django/forms/"):
            widget.template_name = INLINE_SELECT


def table_rows(table: django_tables2.Table) -> list[SafeString]:
    """The current page's rows of `table` as `<tr>` lines, the same HTML as django-tables2's `row.items` in a
    template but cheaper: each column's `<td>` attributes and its render function's signature are worked out
    once per page rather than once per cell (django-tables2 inspects the signature and rebuilds the attributes
    for every cell: about half of a 50-row page's CPU). A column whose cell attributes depend on the row (a
    callable) still gets them per cell."""
    columns = list(table.columns)
    td_static: dict[str, str] = {}
    renderers = {}
    for column in columns:
        attrs = {**table.attrs, **column.column.attrs}
        td = attrs.get("td", attrs.get("cell", {}))
        if not any(callable(v) for v in td.values()):
            column.current_value = column.current_record = None
            td_static[column.name] = column.attrs["td"].as_html()
        renderers[column.name] = _cell_renderer(column)
    rows = []
    for row in table.paginated_rows:
        cells = []
        for column in columns:
            value = row._get_and_render_with(column, render_func=renderers[column.name](row), default=column.default)
            td = td_static.get(column.name)
            if td is None:
                column.current_value, column.current_record = value, row.record
                td = column.attrs["td"].as_html()
            cells.append(f"<td {td}>{conditional_escape(formats.localize(value))}</td>")
        rows.append(mark_safe(f"<tr {row.attrs.as_html()}>{''.join(cells)}</tr>"))  # noqa: S308 (escaped above)
    return rows


def _cell_renderer(column):
    """What django-tables2's BoundRow._call_render does for a cell, with the signature read once per column."""
    args, catch_all = signature(column.render)

    def for_row(row):
        def render(bound_column, value=None):
            kwargs = row._optional_cell_arguments(bound_column, value)
            if not catch_all:
                if any(arg not in kwargs for arg in args):
                    content = None
                else:
                    content = column.render(**{k: kwargs[k] for k in args})
            else:
                content = column.render(**kwargs)
            return bound_column.link(content, **kwargs) if bound_column.link else content

        return render

    return for_row


def _given(value: Any) -> bool:
    """Whether a filter field was filled in (an unticked box or an empty choice is not a filter)."""
    if value is None or value is False:
        return False
    return value not in ("", [], ())
