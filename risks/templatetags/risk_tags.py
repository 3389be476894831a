"""Scores as badges in their band's colour, and the stylesheet that carries the colours."""

from django import template
from django.utils.html import format_html

register = template.Library()


# A criteria version never changes once saved, so each (version, score) badge is drawn once per process: a list
# of hundreds of rows then costs a dictionary lookup per badge.
_BADGES: dict[tuple[int, int], str] = {}


@register.simple_tag
def score_badge(matrix, score) -> str:
    """`{% score_badge risk.matrix risk.residual_score %}`: "12 High" in the band's colour; "—" for no score."""
    if not score or matrix is None:
        return "—"
    key = (matrix.pk, score)
    if key not in _BADGES:
        band = matrix.band(score)
        html = '<span class="badge risk-band risk-band-{}-{}">{} {}</span>'
        _BADGES[key] = format_html(html, matrix.number, band["key"], score, band["label"])
    return _BADGES[key]


@register.simple_tag
def level_label(matrix, axis: str, value) -> str:
    return matrix.level_label(axis, value) if matrix is not None else ""


@register.filter
def get_item(mapping, key):
    return mapping.get(key) if mapping else None
