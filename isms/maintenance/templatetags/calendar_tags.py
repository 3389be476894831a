from html import escape

from django import template
from django.utils.dates import MONTHS
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from ..selectors import BADGE

register = template.Library()

# Lists of tasks and the filters' options are written out here in one pass, every value escaped with the standard
# library's html.escape (what Django's escape does, without its lazy-string check per call), rather than by a
# template loop that looks up, localises and escapes each cell: microseconds a row instead of tens. The busiest
# owner's My tasks (~70 rows), the month view (~170 task links, ~200 owners to filter by) spent most of their
# time in those loops.
_LATE = ' class="table-danger"'
_SELECTED = " selected"


@register.simple_tag
def task_table_rows(rows, empty: str = "") -> SafeString:
    """The body rows of maintenance/_occurrence_table.html from selectors.task_rows, or one that says `empty`."""
    if not rows:
        return format_html('<tr><td colspan="5" class="text-body-secondary">{}</td></tr>', empty or "Nothing here.")
    return mark_safe(  # noqa: S308 (every value escaped)
        "\n".join(
            f'<tr{_LATE if r["late"] else ""}><td class="text-nowrap">{escape(r["due"])}</td>'
            f'<td><a href="{escape(r["url"])}">{escape(r["title"])}</a> '
            f'<span class="text-body-secondary small">{escape(r["kind"])}</span></td>'
            f"<td>{escape(r['owner'])}</td><td>{escape(r['department'])}</td>"
            f'<td><span class="badge {r["badge"]} status-{r["status"]}">{escape(r["status_label"])}</span></td></tr>'
            for r in rows
        )
    )


@register.simple_tag
def calendar_weeks(weeks, agenda_link: str) -> SafeString:
    """The month view's rows (selectors.month_view): a cell per day with its number, its task links (each titled
    with its owner and status) and "+N more" to the day in the agenda (`agenda_link`: the agenda's URL and query up
    to the date). Days of the months around are greyed; today is outlined."""
    months = {}  # month names are translated: once per page
    rows = []
    for week in weeks:
        cells = []
        for day in week:
            css = "" if day.in_month else "text-body-tertiary bg-body-tertiary"
            today = ""
            if day.is_today:
                css, today = f"{css} calendar-today", ' <span class="visually-hidden">(today)</span>'
            cells.append(f'<td class="{css}"><div class="small fw-semibold">{day.date.day}{today}</div>')
            cells.extend(
                f'<a href="{escape(o["url"])}" class="calendar-item status-{o["status"]}" '
                f'title="{escape(o["title"])} · {escape(o["owner"])} · {escape(o["status_label"])}">'
                f"{escape(o['title'])}</a>"
                for o in day.occurrences
            )
            if day.more:
                month = months.get(day.date.month) or months.setdefault(day.date.month, str(MONTHS[day.date.month]))
                iso, late = day.date.isoformat(), f", {day.more_late} of them late" if day.more_late else ""
                css, hidden = "small", ""
                if day.more_late:  # late tasks among those not shown: the link says so
                    css = "small text-danger fw-semibold"
                    hidden = f'<span class="visually-hidden">, {day.more_late} late</span>'

                cells.append(
                    f'<a class="{css}" href="{escape(agenda_link)}from={iso}&amp;to={iso}" '
                    f'title="{day.more} more task{"s" if day.more != 1 else ""} due on {day.date.day} {escape(month)}'
                    f'{late}: the day in the agenda">+{day.more} more{hidden}</a>'
                )
            cells.append("</td>")
        rows.append(f"<tr>{''.join(cells)}</tr>")
    return mark_safe("\n".join(rows))  # noqa: S308 (every value escaped)


@register.simple_tag
def select_options(field) -> SafeString:
    """The <option>s of a choice field of a filter form, the chosen one selected."""
    chosen = field.value()
    chosen = {str(v) for v in chosen} if isinstance(chosen, list | tuple) else {"" if chosen is None else str(chosen)}
    return mark_safe(  # noqa: S308 (every value escaped)
        "".join(
            f'<option value="{escape(str(value))}"{_SELECTED if str(value) in chosen else ""}>'
            f"{escape(str(label))}</option>"
            for value, label in field.field.choices
        )
    )


@register.simple_tag
def status_badge(occurrence, today=None):
    status = occurrence.status(today)
    label = occurrence.Status(status).label
    return format_html('<span class="badge {} status-{}">{}</span>', BADGE[status], status, label)


@register.filter
def status_of(occurrence, today=None):
    return occurrence.status(today)
