"""Small helpers for the evidence templates."""

import datetime
import functools
from html import escape

from django import template
from django.conf import settings
from django.template.defaultfilters import urlencode
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.dates import MONTHS_3, WEEKDAYS_ABBR
from django.utils.safestring import SafeString, mark_safe

from isms.foundation.templatetags.links import safe_href
from isms.maintenance.templatetags.calendar_tags import status_badge

register = template.Library()
register.filter("safe_href", safe_href)


@register.filter
def pct(value: float) -> str:
    """A percentage for a style attribute, with a dot whatever the locale."""
    return f"{float(value):.3f}".rstrip("0").rstrip(".") + "%"


def _url_around_id(name: str) -> tuple[str, str]:
    """What `reverse(name, args=[pk])` puts before and after the id: worked out once per URL configuration."""
    return _reversed_around_id(name, get_script_prefix(), get_urlconf() or settings.ROOT_URLCONF)


@functools.cache
def _reversed_around_id(name: str, prefix: str, urlconf) -> tuple[str, str]:
    marker = 987654321
    head, tail = reverse(name, args=[marker], urlconf=urlconf).split(str(marker))
    return head, tail


@register.filter
def url_with_id(pk: int, name: str) -> str:
    """`{% url name pk %}` for a URL whose only argument is an id, at the cost of a string join: reversed once
    per URL configuration and script prefix, as a list of a hundred rows would otherwise reverse it on every row."""
    head, tail = _url_around_id(name)
    return f"{head}{int(pk)}{tail}"


# A control's coverage shows every task twice, as a mark on its strip and as a row of the table (~160 on the busiest
# control); a requirement's has a line per control (83 on the busiest) and its latest gaps. They are written out here
# in one pass, each value escaped with the standard library's html.escape (what Django's escape does), instead of a
# template loop that reversed URLs, formatted dates and looked up, localised and escaped each value: most of the
# busiest control's page (rendering 87 -> 26 ms). The markup is the same.
_DANGER = ' class="table-danger"'


def _strip_svg(paths: list[tuple[str, str]], today: str) -> str:
    """A compact strip (`coverage._paths`: one path per kind) as one small SVG, with today's line (`today`) if it
    falls in the period. Kinds and path data are made by the code, never by a person: nothing needs escaping."""
    drawn = "".join(f'<path class="cov-fill-{kind}" d="{d}"/>' for kind, d in paths)
    return (
        '<svg class="cov-svg" viewBox="0 0 100 1" preserveAspectRatio="none" aria-hidden="true" focusable="false">'
        f"{drawn}{today}</svg>"
    )


@register.simple_tag(takes_context=True)
def coverage_control_rows(context, cov) -> SafeString:
    """The body of a requirement's table of controls (_coverage_controls.html): a line per control with a link to
    its own coverage (for the period chosen here, if one was), its activities, compact strip and counts."""
    if not cov.by_control:
        return mark_safe(
            '\n    <tr><td colspan="8" class="text-body-secondary">No mapped control to show.</td></tr>\n  '
        )
    get = context["request"].GET
    query = ""
    if get.get("start"):
        query = escape(f"?start={urlencode(get.get('start'))}&end={urlencode(get.get('end', ''))}")
    head, tail = _url_around_id("evidence:control_coverage")
    today = cov.today_left
    today = "" if today is None else f'<path class="cov-fill-today" d="M{today:.1f} 0h.4v1h-.4z"/>'
    parts = []
    for line in cov.by_control:
        control, s = line.control, line.summary
        parts.append(
            f'\n    <tr data-testid="control-row"{_DANGER if s.gaps else ""}>\n'
            f'      <td><a href="{head}{control.pk}{tail}{query}">{escape(control.reference)}</a> '
            f"{escape(control.name)}\n"
            f'        <div class="small text-body-secondary">{escape(line.activity_text)}</div></td>\n'
            f"      <td>{_strip_svg(line.paths, today)}</td>\n"
            f'      <td class="text-end" data-count="on_time">{s.on_time}</td>\n'
            f'      <td class="text-end" data-count="late">{s.late}</td>\n'
            f'      <td class="text-end" data-count="missed">{line.missed_or_overdue}</td>\n'
            f'      <td class="text-end" data-count="no_evidence">{s.no_evidence}</td>\n'
            f'      <td class="text-end" data-count="open">{s.ahead}</td>\n'
            f'      <td class="text-end" data-count="evidence">{s.evidence}</td>\n'
            "    </tr>\n  "
        )
    return mark_safe("".join(parts))  # noqa: S308 (every value escaped)


@register.simple_tag
def coverage_strip(strip, cov) -> SafeString:
    """What one strip of coverage.html draws: its segments, the month lines, today's line and the marks, a link to
    the task where the person may open it, with the task described in its title."""
    head, tail = _url_around_id("maintenance:occurrence")
    segments = "".join(
        f'<span class="cov-seg cov-seg-{seg.kind}" data-left="{pct(seg.left)}" data-width="{pct(seg.width)}"></span>'
        for seg in strip.segments
    )
    gridlines = "".join(f'<span class="cov-gridline" data-left="{pct(left)}"></span>' for left, _, _ in cov.ticks)
    today = cov.today_left
    today = "" if today is None else f'<span class="cov-today" data-left="{pct(today)}" title="Today"></span>'
    marks = []
    for m in strip.marks:
        attrs = (
            f'class="cov-mark cov-{m.status}{" no-evidence" if m.without_evidence else ""}" '
            f'data-left="{pct(m.left)}" title="{escape(m.describe)}"'
        )
        if m.can_open:
            marks.append(f'<a href="{head}{m.occurrence.pk}{tail}" tabindex="-1" {attrs}></a>')
        else:
            marks.append(f"<span {attrs}></span>")
    return mark_safe(f"{segments}\n      {gridlines}\n      {today}\n      {''.join(marks)}")  # noqa: S308 (escaped)


def _day_names() -> tuple[dict[int, str], dict[int, str]]:
    """The names the `date` filter gives "D" and "M" in the active language, translated once for a table."""
    return {n: str(name) for n, name in WEEKDAYS_ABBR.items()}, {n: str(name).title() for n, name in MONTHS_3.items()}


def _day(value: datetime.date, names: tuple[dict[int, str], dict[int, str]], weekday: bool = False) -> str:
    """What the `date` filter writes for "j M Y" (or "D j M Y"), without parsing the format each time."""
    text = f"{value.day} {names[1][value.month]} {value.year}"
    return f"{names[0][value.weekday()]} {text}" if weekday else text


@register.simple_tag
def coverage_task_rows(cov) -> SafeString:
    """The body of coverage.html's table of tasks: every task of the strips, or only the gaps when there are
    hundreds (`table_gaps_only`), or a row that says there is none."""
    if not cov.strips:
        return mark_safe('\n    <tr><td colspan="6" class="text-body-secondary">No tasks in this period.</td></tr>\n  ')
    gaps_only = cov.table_gaps_only
    marks = ((None, m) for strip in cov.strips for m in strip.marks if m.is_gap or not gaps_only)
    return _task_rows(marks, cov.today)


@register.simple_tag
def coverage_gap_rows(cov) -> SafeString:
    """The body of a requirement's table of gaps (_coverage_controls.html): the most recent ones, each with the
    control it belongs to."""
    return _task_rows(cov.gaps_shown, cov.today)


def _task_rows(marks, today: datetime.date) -> SafeString:
    """A row per (control or None, mark): due, task (a link where the person may open it) and owner, [control],
    completed, status, timing and evidence."""
    task_head, task_tail = _url_around_id("maintenance:occurrence")
    control_head, control_tail = _url_around_id("evidence:control_coverage")
    names, badges, parts = _day_names(), {}, []
    for control, m in marks:
        occ = m.occurrence
        title = escape(occ.title)
        if m.can_open:
            title = f'<a href="{task_head}{occ.pk}{task_tail}">{title}</a>'
        completed = escape(_day(occ.completed_on, names)) if occ.completed_on else "—"
        if m.status not in badges:  # the same for every task of a status
            badges[m.status] = status_badge(occ, today)
        evidence = str(m.evidence_count)
        if m.without_evidence:
            evidence += ' <span class="badge text-bg-danger">done without evidence</span>'
            if m.without_evidence_reason:
                evidence += f'<div class="small text-body-secondary">{escape(m.without_evidence_reason)}</div>'
        control_cell = (
            ""
            if control is None
            else f'      <td><a href="{control_head}{control.pk}{control_tail}">{escape(control.reference)}</a></td>\n'
        )
        parts.append(
            f'\n    <tr class="{"table-danger" if m.is_gap else ""}">\n'
            f'      <td class="text-nowrap">{escape(_day(occ.due_date, names, weekday=True))}</td>\n'
            f'      <td>{title} <span class="small text-body-secondary">{escape(str(occ.owner))}</span></td>\n'
            f"{control_cell}"
            f'      <td class="text-nowrap">{completed}</td>\n'
            f"      <td>{badges[m.status]}</td>\n"
            f"      <td>{escape(m.timing)}</td>\n"
            f'      <td class="text-end">{evidence}</td>\n'
            "    </tr>\n  "
        )
    return mark_safe("".join(parts))  # noqa: S308 (every value escaped)
