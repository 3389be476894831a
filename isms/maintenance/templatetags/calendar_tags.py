from django import template
from django.utils.html import format_html

register = template.Library()

BADGE = {
    "upcoming": "text-bg-light border",
    "due": "text-bg-warning",
    "overdue": "text-bg-danger",
    "missed": "text-bg-dark",
    "done_on_time": "text-bg-success",
    "done_late": "text-bg-info",
    "skipped": "text-bg-secondary",
}


@register.simple_tag
def status_badge(occurrence, today=None):
    status = occurrence.status(today)
    label = occurrence.Status(status).label
    return format_html('<span class="badge {} status-{}">{}</span>', BADGE[status], status, label)


@register.filter
def status_of(occurrence, today=None):
    return occurrence.status(today)
