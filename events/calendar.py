"""What the events app's tasks mean on the calendar: a change's reviews, a supplier's review and contract end, a
certificate's expiry, and an objective's progress updates."""

from django.urls import reverse

from isms.maintenance.purposes import Purpose, register

from .services import CONTRACT, EXPIRY, PROGRESS, REVIEW, change_review_done, supplier_review_task_done

register(
    Purpose(
        model="events.ChangeReview",
        purpose=REVIEW,
        label=lambda review: f"Change {review.change.reference}: {review.get_kind_display().lower()}",
        url=lambda review: reverse("events:change", args=[review.change_id]),
        on_completed=change_review_done,
    )
)
register(
    Purpose(
        model="events.Supplier",
        purpose=REVIEW,
        label=lambda supplier: f"Supplier {supplier.name}: review",
        url=lambda supplier: reverse("events:supplier", args=[supplier.pk]),
        on_completed=supplier_review_task_done,
    )
)
register(
    Purpose(
        model="events.Supplier",
        purpose=CONTRACT,
        label=lambda supplier: f"Supplier {supplier.name}: contract ends {supplier.contract_end:%d %b %Y}",
        url=lambda supplier: reverse("events:supplier", args=[supplier.pk]),
    )
)
register(
    Purpose(
        model="events.Certificate",
        purpose=EXPIRY,
        label=lambda cert: f"Supplier {cert.supplier.name}: {cert.name} expires {cert.expires_on:%d %b %Y}",
        url=lambda cert: reverse("events:supplier", args=[cert.supplier_id]),
    )
)
register(
    Purpose(
        model="events.Objective",
        purpose=PROGRESS,
        label=lambda objective: f"Objective: {objective.title}",
        url=lambda objective: reverse("events:objective", args=[objective.pk]),
    )
)
