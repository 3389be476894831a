"""Read-side queries and shapes for the risk pages, each a constant number of queries whatever the rows."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import Count, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from isms.foundation import reach

from .models import Assessment, Matrix, ReviewRequest, Risk, Status, Treatment, TreatmentAction

#: "Due" in the queue: a review falling due within this many days.
DUE_WITHIN = datetime.timedelta(days=30)
#: "Reviewed this period": a review within this many days.
PERIOD = datetime.timedelta(days=30)


def register(user) -> QuerySet[Risk]:
    """The risks `user` may see, with what the register shows of them and their action progress."""
    # Counted by subqueries, not a join and GROUP BY: the database then counts for the page's 50 rows only,
    # instead of grouping the whole register before it sorts and cuts.
    actions = TreatmentAction.objects.filter(risk=OuterRef("pk")).order_by().values("risk")
    qs = Risk.objects.select_related("owner", "department", "matrix").annotate(
        actions_total=Coalesce(Subquery(actions.annotate(n=Count("pk")).values("n")), 0),
        actions_done=Coalesce(Subquery(actions.filter(done_on__isnull=False).annotate(n=Count("pk")).values("n")), 0),
    )
    return reach.visible(user, qs)


def risk_page(user, pk: int):
    """One risk with everything its page shows."""
    return reach.get_or_404(
        user,
        Risk.objects.select_related("owner", "department", "matrix").prefetch_related(
            "controls", Prefetch("requirements", queryset=_requirements())
        ),
        pk=pk,
    )


def _requirements():
    from controls.models import Requirement

    return Requirement.objects.select_related("framework").order_by("framework__name", "position")


def history_queryset(risk: Risk) -> QuerySet[Assessment]:
    """Every assessment of the risk, newest first, with its criteria version (paged by the history page)."""
    return risk.assessments.select_related("matrix").order_by("-number")


# --------------------------------------------------------------------------------------------------- comparison

FIELD_LABELS = [
    ("inherent", "Inherent risk"),
    ("residual", "Residual risk"),
    ("target", "Target residual risk"),
    ("treatment", "Treatment"),
    ("treatment_plan", "How it is treated"),
    ("target_date", "Target date"),
    ("controls", "Controls"),
    ("requirements", "Annex A controls"),
    ("matrix", "Criteria version"),
]
_FIELD_GROUPS = {
    "inherent": ("inherent_likelihood", "inherent_impact"),
    "residual": ("residual_likelihood", "residual_impact"),
    "target": ("target_likelihood", "target_impact"),
}


def describe(snap: dict, field: str, matrix: Matrix) -> str:
    """One assessed field of a snapshot in words, on the scale of the matrix it was assessed under."""
    if field in _FIELD_GROUPS:
        lk, im = (snap.get(f) for f in _FIELD_GROUPS[field])
        if not lk or not im:
            return "—"
        band = matrix.band(lk * im)
        return (
            f"{lk * im} ({band['label'] if band else ''}): likelihood {lk} {matrix.level_label('likelihood', lk)}, "
            f"impact {im} {matrix.level_label('impact', im)}"
        )
    if field == "treatment":
        return Treatment(snap.get("treatment")).label if snap.get("treatment") in Treatment.values else "—"
    if field == "controls":
        return ", ".join(f"{c['reference']} {c['name']}" for c in snap.get("controls", [])) or "none"
    if field == "requirements":
        return ", ".join(f"{r['identifier']} {r['title']}" for r in snap.get("requirements", [])) or "none"
    if field == "matrix":
        return f"version {matrix.number} ({matrix.size}×{matrix.size})"
    if field == "target_date" and snap.get("target_date"):
        day = datetime.date.fromisoformat(snap["target_date"])
        return f"{day.day} {day:%B %Y}"
    return str(snap.get(field) or "—")


@dataclass
class CompareRow:
    label: str
    left: str
    right: str

    @property
    def differs(self) -> bool:
        return self.left != self.right


def compare(left: Assessment, right: Assessment) -> list[CompareRow]:
    """Two assessments side by side, each read on its own criteria version."""
    return [
        CompareRow(label, describe(left.snapshot, field, left.matrix), describe(right.snapshot, field, right.matrix))
        for field, label in FIELD_LABELS
    ]


# --------------------------------------------------------------------------------------------------- heatmap


@dataclass
class Cell:
    likelihood: int
    impact: int
    count: int
    colour: str
    band: str


def heatmap(risks: QuerySet[Risk], matrix: Matrix, which: str) -> dict:
    """Counts per (likelihood, impact) of `which` ("inherent" or "residual") on the current criteria, rows from
    the highest likelihood down. Risks last assessed under another version are counted aside (one query)."""
    lk, im = f"{which}_likelihood", f"{which}_impact"
    counts = {
        (row[lk], row[im]): row["n"]
        for row in risks.filter(matrix=matrix)
        .exclude(status=Status.CLOSED)
        .order_by()
        .values(lk, im)
        .annotate(n=Count("pk"))
    }
    rows = []
    for likelihood in reversed(matrix.levels):
        cells = []
        for impact in matrix.levels:
            band = matrix.band(likelihood * impact)
            cells.append(Cell(likelihood, impact, counts.get((likelihood, impact), 0), band["colour"], band["key"]))
        rows.append((likelihood, matrix.level_label("likelihood", likelihood), cells))
    return {"which": which, "rows": rows, "total": sum(counts.values())}


def movement(risks: QuerySet[Risk], matrix: Matrix) -> list[dict]:
    """How many risks move from each inherent cell to each residual cell (one query)."""
    rows = (
        risks.filter(matrix=matrix)
        .exclude(status=Status.CLOSED)
        .order_by()
        .values("inherent_likelihood", "inherent_impact", "residual_likelihood", "residual_impact")
        .annotate(n=Count("pk"))
    )
    return [
        {
            "from": (r["inherent_likelihood"], r["inherent_impact"]),
            "to": (r["residual_likelihood"], r["residual_impact"]),
            "n": r["n"],
        }
        for r in rows
    ]


def movement_svg(moves: list[dict], matrix: Matrix, cell: int = 64) -> dict:
    """The inherent → residual moves drawn on one grid: a curved arrow from cell to cell, thicker for more risks,
    its count at its middle; a ring where risks did not move. Plain numbers for the template (server-rendered
    SVG, no script)."""
    import math

    size = matrix.size
    pad = 30

    def centre(likelihood: int, impact: int) -> tuple[float, float]:
        return pad + (impact - 1) * cell + cell / 2, (size - likelihood) * cell + cell / 2

    cells = []
    for likelihood in matrix.levels:
        for impact in matrix.levels:
            band = matrix.band(likelihood * impact)
            cells.append(
                {"x": str(pad + (impact - 1) * cell), "y": str((size - likelihood) * cell), "colour": band["colour"]}
            )
    arrows, stays = [], []
    moves = sorted(moves, key=lambda m: -m["n"])[:MOVES_SHOWN]
    biggest = max((m["n"] for m in moves), default=1)
    for move in moves:
        (x1, y1), (x2, y2) = centre(*move["from"]), centre(*move["to"])
        if (x1, y1) == (x2, y2):
            stays.append({"x": f"{x1:g}", "y": f"{y1:g}", "n": str(move["n"]), "count": move["n"]})
            continue
        dx, dy = x2 - x1, y2 - y1
        length = math.hypot(dx, dy)
        ux, uy = dx / length, dy / length
        # Start and end a little inside the cells, and bend to one side so opposite moves do not overlap.
        sx, sy = x1 + ux * 10, y1 + uy * 10
        ex, ey = x2 - ux * 12, y2 - uy * 12
        bend = 0.18 * length
        cx, cy = (sx + ex) / 2 - uy * bend, (sy + ey) / 2 + ux * bend
        arrows.append(
            {
                "d": f"M {sx:.1f} {sy:.1f} Q {cx:.1f} {cy:.1f} {ex:.1f} {ey:.1f}",
                # Strings: numbers in a template are localised one by one, which is most of the cost of drawing.
                "lx": f"{(sx + 2 * cx + ex) / 4:.1f}",
                "ly": f"{(sy + 2 * cy + ey) / 4:.1f}",
                "n": str(move["n"]),
                "count": move["n"],
                "w": f"{1.5 + 3.5 * move['n'] / biggest:.1f}",
            }
        )
    return {
        "cells": cells,
        "arrows": arrows,
        "stays": stays,
        "cell": str(cell),
        "width": str(pad + size * cell),
        "height": str(size * cell + pad),
        "axis_x": [
            {"x": str(pad + (i - 1) * cell + cell // 2), "y": str(size * cell + pad - 10), "n": str(i)}
            for i in matrix.levels
        ],
        "axis_y": [{"y": str((size - i) * cell + cell // 2 + 4), "n": str(i)} for i in matrix.levels],
    }


# --------------------------------------------------------------------------------------------------- queue


#: Each section of the queue shows at most this many risks, the most pressing first, and says how many more.
QUEUE_LIMIT = 50
#: The move from inherent to residual draws at most this many arrows (the biggest moves), and says how many more.
MOVES_SHOWN = 40


def queue(user, today: datetime.date | None = None) -> dict:
    """The "due for review" queue: overdue, due within 30 days, asked for out of cycle, reviewed recently; each
    section bounded (QUEUE_LIMIT) with its full count. Seven queries whatever the size of the register."""
    today = today or timezone.localdate()
    risks = reach.visible(user, Risk.objects.select_related("owner", "matrix")).exclude(status=Status.CLOSED)
    sections = {
        "overdue": risks.filter(next_review_on__lt=today).order_by("next_review_on", "number"),
        "due": risks.filter(next_review_on__gte=today, next_review_on__lte=today + DUE_WITHIN).order_by(
            "next_review_on", "number"
        ),
        "requested": ReviewRequest.objects.filter(risk__in=risks, answered_by__isnull=True)
        .select_related("risk", "risk__owner", "risk__matrix", "requested_by")
        .order_by("requested_at"),
        "reviewed": risks.filter(last_reviewed_on__gte=today - PERIOD).order_by("-last_reviewed_on", "number"),
    }
    found: dict = {"today": today, "period_days": PERIOD.days, "due_days": DUE_WITHIN.days, "limit": QUEUE_LIMIT}
    for name, qs in sections.items():
        found[name] = list(qs[:QUEUE_LIMIT])
    counts = risks.order_by().aggregate(
        overdue=Count("pk", filter=Q(next_review_on__lt=today)),
        due=Count("pk", filter=Q(next_review_on__gte=today, next_review_on__lte=today + DUE_WITHIN)),
        reviewed=Count("pk", filter=Q(last_reviewed_on__gte=today - PERIOD)),
    )
    counts["requested"] = sections["requested"].count()
    for name, count in counts.items():
        found[f"{name}_count"] = count
    return found


# --------------------------------------------------------------------------------------------------- plan


def plan_risks(user=None) -> QuerySet[Risk]:
    """The risks in the treatment plan: not closed, with their actions."""
    qs = (
        Risk.objects.exclude(status=Status.CLOSED)
        .select_related("owner", "matrix")
        .prefetch_related(Prefetch("actions", queryset=TreatmentAction.objects.select_related("owner")))
        .order_by("-residual_score", "number")
    )
    return reach.visible(user, qs) if user is not None else qs


def plan_entries() -> list[dict]:
    """The treatment plan as frozen JSON (what a plan version keeps)."""
    entries = []
    for risk in plan_risks():
        band = risk.matrix.band(risk.residual_score)
        target_band = risk.matrix.band(risk.target_score)
        entries.append(
            {
                "reference": risk.reference,
                "title": risk.title,
                "owner_id": risk.owner_id,
                "owner": str(risk.owner),
                "inherent_score": risk.inherent_score,
                "residual_score": risk.residual_score,
                "residual_band": band["label"] if band else "",
                "target_score": risk.target_score,
                "target_band": target_band["label"] if target_band else "",
                "target_date": risk.target_date.isoformat() if risk.target_date else None,
                "treatment": risk.get_treatment_display(),
                "treatment_plan": risk.treatment_plan,
                "status": risk.get_status_display(),
                "actions": [
                    {
                        "title": a.title,
                        "owner": str(a.owner),
                        "due_date": a.due_date.isoformat(),
                        "done_on": a.done_on.isoformat() if a.done_on else None,
                    }
                    for a in risk.actions.all()
                ],
            }
        )
    return entries
