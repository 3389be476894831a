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
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import django_filters
import django_tables2
from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.text import slugify

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
    """

    title: str
    filterset: type[django_filters.FilterSet]
    table: type[django_tables2.Table]
    empty_text: str
    template_name: str = "foundation/list.html"
    partial_template_name: str = "foundation/_table.html"
    per_page: int = 50
    exports: tuple[str, ...] = ("csv", "xlsx")

    def render(
        self, request: HttpRequest, queryset: QuerySet, *, context: Mapping[str, Any] | None = None
    ) -> HttpResponse:
        """The page (or its htmx partial, or a download) for `queryset`, which the caller has already narrowed
        to the user's reach: filters and downloads only ever narrow it further."""
        filterset = self.filterset(request.GET or None, queryset=queryset, request=request)
        filtered = (
            filterset.is_bound and filterset.is_valid() and any(_given(v) for v in filterset.form.cleaned_data.values())
        )
        table = self.table(filterset.qs, empty_text=NO_MATCH_TEXT if filtered else self.empty_text)
        django_tables2.RequestConfig(request, paginate=False).configure(table)  # ?sort=
        export = request.GET.get("export")
        if export:
            return self.export(table, export)
        table.paginate(paginator_class=ForgivingPaginator, per_page=self.per_page, page=request.GET.get("page") or 1)
        page_context = {
            **(context or {}),
            "title": self.title,
            "filterset": filterset,
            "filtered": filtered,
            "table": table,
            "page": table.page,
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


def _given(value: Any) -> bool:
    """Whether a filter field was filled in (an unticked box or an empty choice is not a filter)."""
    if value is None or value is False:
        return False
    return value not in ("", [], ())
