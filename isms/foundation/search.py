"""Text search for list pages, written once: a filter that an index serves on PostgreSQL, and a picker that
lets a person choose one row of a long list by typing instead of scrolling a drop-down of every row.

**Searching a column.** `contains(queryset, text, "title", "original_name")` keeps the rows where any of the
columns contains `text`, case-insensitively (Django's `icontains`: `UPPER(col) LIKE UPPER('%text%')` on
PostgreSQL, `LIKE` on SQLite). A `LIKE '%…%'` cannot use an ordinary index, so on a large table it reads every
row; on PostgreSQL a pg_trgm GIN index on `UPPER(col)` serves it instead. A migration adds one per searched
column with `AddTrigramIndex`; on SQLite (`make run`) the operation does nothing and the same filter scans,
which is fine at that size. The results are the same on both: the index changes the speed, never the rows.

    class Migration(migrations.Migration):
        operations = [AddTrigramIndex("controls_control", "name")]

In a FilterSet: `q = TextSearchFilter(fields=("reference", "name"), label="Search")`.

**Picking one row of many.** A `<select>` of every control, requirement or person costs the server ~1,000
`<option>`s on each page (and a person a long scroll). `LookupField` is a text box instead: it takes the label
of a row (what the suggestions offer), the row's id (links from other pages), or a few words that match exactly
one row; words that match none or several are a message next to the field saying what to type. `suggestions`
answers the box as the person types (an htmx request filling the box's `<datalist>`, at most 20 rows of the
same queryset, so only what the person may see). Without JavaScript the box still works: typed words filter.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import django_filters
from django import forms
from django.db import migrations
from django.db.models import Model, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.html import format_html_join

SUGGESTIONS = 20  # rows offered as a person types; the box narrows them further


def contains(queryset: QuerySet, text: str, *fields: str) -> QuerySet:
    """The rows where any of `fields` contains `text` (case-insensitive, the whole text as typed); all rows when
    `text` is blank. Served by a trigram index on PostgreSQL where the column has one (AddTrigramIndex)."""
    text = (text or "").strip()
    if not text:
        return queryset
    match = Q()
    for field in fields:
        match |= Q(**{f"{field}__icontains": text})
    return queryset.filter(match)


def words_match(queryset: QuerySet, text: str, fields: Sequence[str]) -> QuerySet:
    """The rows where every word of `text` is in one of `fields` ("access policy" finds "Access control policy")."""
    for word in (text or "").split():
        match = Q()
        for field in fields:
            match |= Q(**{f"{field}__icontains": word})
        queryset = queryset.filter(match)
    return queryset


class TextSearchFilter(django_filters.CharFilter):
    """A FilterSet's search box over `fields` (see `contains`)."""

    def __init__(self, *, fields: Sequence[str], **kwargs) -> None:
        super().__init__(**kwargs)
        self.search_fields = tuple(fields)

    def filter(self, qs: QuerySet, value: str) -> QuerySet:
        return contains(qs, value, *self.search_fields)


class AddTrigramIndex(migrations.RunPython):
    """A pg_trgm GIN index on `UPPER(column)` of `table`, the expression `icontains` compares on PostgreSQL, so
    that `contains()` on that column reads the index instead of every row. Creates the pg_trgm extension if
    needed. Does nothing on other databases (SQLite keeps the plain filter)."""

    def __init__(self, table: str, column: str, name: str | None = None) -> None:
        self.table, self.column = table, column
        self.index_name = name or f"{table}_{column}_trgm"[:63]
        super().__init__(self._create, self._drop, elidable=False)

    def deconstruct(self):
        return (self.__class__.__qualname__, [self.table, self.column, self.index_name], {})

    def describe(self) -> str:
        return f"Trigram index on UPPER({self.column}) of {self.table} (PostgreSQL)"

    def _create(self, apps, schema_editor) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        quote = schema_editor.quote_name
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {quote(self.index_name)} ON {quote(self.table)} "
            f"USING gin ((UPPER({quote(self.column)}::text)) gin_trgm_ops)"
        )

    def _drop(self, apps, schema_editor) -> None:
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(self.index_name)}")


# --- picking one row of many by typing ---------------------------------------------------------------------


@dataclass(frozen=True)
class Lookup:
    """How a person names one row of a long list.

    noun / plural: what a row is called in messages ("control", "controls").
    label: the row as the box shows it and the suggestions offer it; unique, as it is also typed back.
    exact: the rows of a queryset whose label (or unique reference) is exactly the text, case-insensitively.
    fields: where typed words are looked for, each word in one of them.
    order: the order of suggestions and of the examples in a message.
    """

    noun: str
    plural: str
    label: Callable[[Model], str]
    exact: Callable[[QuerySet, str], QuerySet]
    fields: tuple[str, ...]
    order: tuple[str, ...] = ("pk",)

    def matching(self, queryset: QuerySet, text: str) -> QuerySet:
        """The rows whose label is `text`, or else those that every typed word matches."""
        text = " ".join((text or "").split())
        exact = self.exact(queryset, text)
        return exact if exact.exists() else words_match(queryset, text, self.fields).order_by(*self.order)

    def suggest(self, queryset: QuerySet, text: str, limit: int = SUGGESTIONS) -> list[str]:
        """At most `limit` labels for what has been typed so far (the first rows when nothing is)."""
        text = " ".join((text or "").split())
        return [self.label(row) for row in words_match(queryset, text, self.fields).order_by(*self.order)[:limit]]


class LookupField(forms.Field):
    """One row of `queryset` named by its label, its id, or words that match only it (see the module's doc).
    The cleaned value is the row, or None when the box is empty. Set `queryset` per request to what the person
    may see: nothing else can be named, and a row outside it is "no match", the same as one that does not exist."""

    widget = forms.TextInput

    def __init__(self, *, lookup: Lookup, queryset: QuerySet, **kwargs) -> None:
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)
        self.lookup, self.queryset = lookup, queryset

    def widget_attrs(self, widget):
        return {**super().widget_attrs(widget), "autocomplete": "off", "maxlength": "200"}

    def to_python(self, value):
        text = " ".join(str(value or "").split())
        if not text:
            return None
        if len(text) > 200:
            raise forms.ValidationError(f"Type at most 200 characters of the {self.lookup.noun}'s name.")
        if text.isdigit() and len(text) < 12:  # an id: the links other pages make to a filtered list
            row = self.queryset.filter(pk=int(text)).first()
            if row is not None:
                return self._chose(value, row)
        rows = list(self.lookup.matching(self.queryset, text)[:4])
        if len(rows) == 1:
            return self._chose(value, rows[0])
        noun = self.lookup.noun
        if not rows:
            raise forms.ValidationError(
                f"No {noun} matches “{text}”. Type part of its name and pick one of the suggestions, or clear the box."
            )
        examples = "; ".join(self.lookup.label(row) for row in rows[:3])
        more = ", …" if len(rows) > 3 else ""
        raise forms.ValidationError(
            f"Several {self.lookup.plural} match “{text}” ({examples}{more}). Type more of the one you mean, "
            "or pick it from the suggestions."
        )

    def _chose(self, typed, row: Model) -> Model:
        self._chosen = (typed, row)  # so that the box shows the row's label, not the id or words typed
        return row

    def prepare_value(self, value):
        """The box shows the chosen row's label (also when the URL named it by id or by a few words), and what
        was typed when it named no single row."""
        if isinstance(value, Model):
            return self.lookup.label(value)
        chosen = getattr(self, "_chosen", None)
        if chosen is not None and chosen[0] == value:
            return self.lookup.label(chosen[1])
        return value


def suggestions(request: HttpRequest, field: LookupField, param: str) -> HttpResponse:
    """The `<option>`s of a lookup box's `<datalist>` for the text in `request.GET[param]`."""
    labels = field.lookup.suggest(field.queryset, request.GET.get(param, "")[:200])
    return HttpResponse(format_html_join("", '<option value="{}"></option>', ((label,) for label in labels)))
