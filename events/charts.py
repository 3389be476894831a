"""An objective's progress as a small chart drawn on the server (SVG, no script, no chart library)."""

from __future__ import annotations

from decimal import Decimal

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

WIDTH, HEIGHT = 640, 220
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 16, 36


def _fmt(value: Decimal) -> str:
    return f"{value.normalize():f}"


def progress_chart(objective, entries: list) -> SafeString:
    """The entries as a line against the planned path from the baseline to the target, with the target as a
    dashed line. Dates run left to right from the objective's start to its due date (or the last entry)."""
    start = objective.start_on
    end = max([objective.due_on, *[e.recorded_on for e in entries]])
    span = max((end - start).days, 1)
    values = [objective.baseline, objective.target, *[e.value for e in entries]]
    low, high = min(values), max(values)
    if low == high:
        high = low + 1
    pad = (high - low) * Decimal("0.08")
    low, high = low - pad, high + pad
    inner_w, inner_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(day) -> float:
        return round(LEFT + inner_w * max((day - start).days, 0) / span, 1)

    def y(value: Decimal) -> float:
        return round(TOP + inner_h * float((high - value) / (high - low)), 1)

    points = " ".join(f"{x(e.recorded_on)},{y(e.value)}" for e in entries)
    dots = format_html_join(
        "",
        '<circle cx="{}" cy="{}" r="3.5" fill="#0d6efd"><title>{}: {}</title></circle>',
        ((x(e.recorded_on), y(e.value), e.recorded_on.strftime("%d %b %Y"), _fmt(e.value)) for e in entries),
    )
    unit = f" {objective.unit}" if objective.unit else ""
    label = (
        f"Progress of {objective.title}: "
        + (f"latest {_fmt(entries[-1].value)}{unit} on {entries[-1].recorded_on:%d %b %Y}, " if entries else "")
        + f"target {_fmt(objective.target)}{unit} by {objective.due_on:%d %b %Y}"
    )
    return format_html(
        '<svg viewBox="0 0 {w} {h}" width="100%" role="img" aria-label="{label}" class="objective-chart" '
        'preserveAspectRatio="xMidYMid meet">'
        '<rect x="{l}" y="{t}" width="{iw}" height="{ih}" fill="#f8f9fa" stroke="#dee2e6"/>'
        '<line x1="{l}" x2="{r}" y1="{ty}" y2="{ty}" stroke="#198754" stroke-dasharray="6 4"/>'
        '<text x="{r}" y="{tyl}" text-anchor="end" font-size="12" fill="#198754">target {target}{unit}</text>'
        '<line x1="{bx}" y1="{by}" x2="{dx}" y2="{ty}" stroke="#adb5bd" stroke-dasharray="2 3"/>'
        '<text x="{l}" y="{base}" font-size="12" fill="#6c757d">{start}</text>'
        '<text x="{r}" y="{base}" text-anchor="end" font-size="12" fill="#6c757d">{end}</text>'
        '<text x="{lt}" y="{hy}" text-anchor="end" font-size="12" fill="#6c757d">{high}</text>'
        '<text x="{lt}" y="{ly}" text-anchor="end" font-size="12" fill="#6c757d">{low}</text>'
        '<polyline points="{points}" fill="none" stroke="#0d6efd" stroke-width="2"/>{dots}</svg>',
        w=WIDTH,
        h=HEIGHT,
        label=label,
        l=LEFT,
        t=TOP,
        r=WIDTH - RIGHT,
        iw=inner_w,
        ih=inner_h,
        ty=y(objective.target),
        tyl=y(objective.target) - 4,
        target=_fmt(objective.target),
        unit=unit,
        bx=x(start),
        by=y(objective.baseline),
        dx=x(objective.due_on),
        base=HEIGHT - 12,
        start=start.strftime("%d %b %Y"),
        end=end.strftime("%d %b %Y"),
        lt=LEFT - 6,
        hy=TOP + 12,
        ly=TOP + inner_h,
        high=_fmt(high.quantize(Decimal("0.1"))),
        low=_fmt(low.quantize(Decimal("0.1"))),
        points=points,
        dots=dots,
    )
