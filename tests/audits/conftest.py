"""Audit programme tests: the two ISO/IEC 27001 catalogues, an approved SoA, a certificate, a control with a
monthly activity, and helpers to find a subject's calendar task."""

import datetime
from pathlib import Path

import pytest
from django.contrib.contenttypes.models import ContentType

from isms.maintenance.models import Occurrence
from tests.factories import make_certificate, make_control, make_schedule

CATALOGUES = Path(__file__).resolve().parents[2] / "controls" / "catalogues"


@pytest.fixture
def catalogues(db):
    from controls.catalogue import load_catalogue

    load_catalogue(CATALOGUES / "iso27001-2022-clauses.yaml")
    load_catalogue(CATALOGUES / "iso27001-2022-annex-a.yaml")


@pytest.fixture
def soa(catalogues, compliance):
    """The SoA approved with every Annex A control applicable."""
    from controls.models import Framework
    from controls.services import soa_approve

    return soa_approve(framework=Framework.objects.get(code="iso27001-2022-annex-a"), by=compliance, note="First")


@pytest.fixture
def certificate(clock, compliance):
    return make_certificate(issue_date=datetime.date(2026, 3, 1))


@pytest.fixture
def backup_control(soa, owner):
    """The owner's backup control, against Annex A 8.13, with a monthly restore test due on the 20th."""
    from controls.models import Requirement

    req = Requirement.objects.get(framework__code="iso27001-2022-annex-a", identifier="8.13")
    control = make_control(owner, "BC-01", "Backups and restore tests", requirements=[req])
    make_schedule(owner, subject=control, title="Monthly restore test", start_date=datetime.date(2026, 3, 20))
    return control


def task_of(subject, purpose: str = "") -> Occurrence | None:
    """The subject's earliest open (or missed) task for that purpose."""
    return (
        Occurrence.objects.filter(
            schedule__subject_type=ContentType.objects.get_for_model(subject),
            schedule__subject_id=subject.pk,
            schedule__purpose=purpose,
            state__in=["open", "missed"],
        )
        .order_by("due_date")
        .first()
    )
