"""The demo's engagement: the certification body's auditor (the demo `auditor`) reading ahead of the first
surveillance audit, over Annex A and the ISMS clauses since the certification audit, open now; with a sample of
a control's activities and an evidence request, one answered. Loaded once."""

from __future__ import annotations

import datetime

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Count, Q

from controls.models import Control, Framework
from evidence.services import occurrence_complete_with_evidence
from isms.accounts.models import User
from isms.organisation.models import Certificate, CycleAudit

from .evidence_requests import request_create, round_tasks
from .models import Area, Engagement, SamplePopulation
from .sampling import sample_draw
from .scope import forget
from .services import engagement_save

TITLE = "Surveillance audit 1: document review"


def load(*, users: dict[str, User], today: datetime.date) -> None:
    if Engagement.objects.filter(title=TITLE).exists():
        return
    certificate = Certificate.objects.order_by("-issue_date").first()
    frameworks = list(Framework.objects.filter(code__in=["iso27001-2022-annex-a", "iso27001-2022-clauses"]))
    if certificate is None or not frameworks:
        return
    surveillance = (
        CycleAudit.objects.filter(certificate=certificate, kind__startswith="surveillance")
        .order_by("planned_date")
        .first()
    )
    audit = getattr(surveillance, "audit_record", None) if surveillance else None
    engagement = engagement_save(
        by=users["compliance"],
        title=TITLE,
        certification_body=certificate.certification_body,
        audit=audit,
        # Since the stage 2 audit (a month before the certificate was issued) until today.
        period_start=certificate.issue_date - datetime.timedelta(days=31),
        period_end=today,
        access_starts_on=today - datetime.timedelta(days=3),
        access_ends_on=today + datetime.timedelta(days=45),
        areas=[Area.RISKS, Area.INTERNAL_AUDITS, Area.NONCONFORMITIES, Area.MANAGEMENT_REVIEWS, Area.INCIDENTS],
        frameworks=frameworks,
        auditors=[users["auditor"]],
    )

    auditor = users["auditor"]
    forget(auditor)
    # The control with the most activities in the period: the auditor samples its records.
    busiest = (
        Control.objects.filter(requirements__framework__code="iso27001-2022-annex-a")
        .annotate(
            due=Count(
                "schedules__occurrences",
                filter=Q(
                    schedules__occurrences__due_date__gte=engagement.period_start,
                    schedules__occurrences__due_date__lte=today,
                ),
                distinct=True,
            )
        )
        .order_by("-due", "reference")
        .first()
    )
    if busiest is None or not busiest.due:
        return
    sample = sample_draw(
        by=auditor,
        viewer=auditor,
        engagement=engagement,
        population=SamplePopulation.CONTROL_ACTIVITIES,
        control=busiest,
        seed=20261130,
        note="Records to look at on site; evidence asked ahead for the first one.",
    )
    first = sample.items.order_by("position").first()
    request_create(
        by=auditor,
        engagement=engagement,
        text="Please upload the full record behind this activity (the export or screenshot it was based on, "
        "with the reviewer's name and the date).",
        sample_item=first,
        today=today,
    )
    # A second request, on the control itself, already answered by its owner.
    answered = request_create(
        by=auditor,
        engagement=engagement,
        text=f"The current procedure for {busiest.name.lower()}, as approved.",
        control=busiest,
        today=today,
    )
    task = round_tasks(answered.rounds.get()).first()
    if task is not None:
        occurrence_complete_with_evidence(
            occurrence=task,
            by=task.owner,
            note="Procedure v3, approved by the CISO in March.",
            files=[
                SimpleUploadedFile(
                    "procedure-v3.txt",
                    f"{busiest.reference} procedure, version 3, approved.\n".encode(),
                    content_type="text/plain",
                )
            ],
        )
