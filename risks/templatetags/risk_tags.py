"""Scores as badges in their band's colour, and the stylesheet that carries the colours."""

from django import template
from django.utils.html import format_html

register = template.Library()


@register.simple_tag
def score_badge(matrix, score) -> str:
    """`{% score_badge risk.matrix risk.residual_score %}`: "12 High" in the band's colour; "—" for no score."""
    if not score or matrix is None:
        return "—"
    band = matrix.band(score)
    return format_html(
        '<span class="badge risk-band risk-band-{}-{}">{} {}</span>', matrix.number, band["key"], score, band["label"]
    )


@register.simple_tag
def level_label(matrix, axis: str, value) -> str:
    return matrix.level_label(axis, value) if matrix is not None else ""


@register.filter
def get_item(mapping, key):
    return mapping.get(key) if mapping else None
