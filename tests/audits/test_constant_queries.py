"""The coverage matrix, the register and a management review ask the same number of queries for a few rows as
for many (what the benchmark measures at scale: benchmarks/audits_bench.py)."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audits import services
from audits.models import Source

pytestmark = pytest.mark.django_db


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def _add(compliance, owner, other_owner, n: int, today) -> None:
    from controls.models import Requirement

    reqs = list(Requirement.objects.filter(framework__has_soa=True)[: 3 * n])
    for i in range(n):
        services.audit_create(
            by=compliance, programme=services.programme_ensure(certificate=_cert()), kind="internal",
            title=f"Audit {i}", planned_on=today + datetime.timedelta(days=30 * (i + 1)), lead_auditor=other_owner,
            scope=reqs[3 * i : 3 * i + 3],
        )  # fmt: skip
        services.nc_raise(by=compliance, source=Source.SELF, title=f"NC {i}", description="x", owner=owner)
        services.party_save(by=compliance, name=f"Party {i}", requirements="x")


def _cert():
    from isms.organisation.models import Certificate

    return Certificate.objects.current()


def test_pages_ask_a_constant_number_of_queries(clock, client_as, compliance, owner, other_owner, certificate, soa):
    client = client_as(compliance)
    review = services.review_plan(by=compliance, planned_on=clock.today, chair=compliance)
    services.review_open(review=review, by=compliance)
    urls = [reverse("audits:programme"), reverse("audits:ncs"), reverse("audits:review", args=[review.pk]),
            reverse("audits:audits"), reverse("audits:parties")]  # fmt: skip
    _add(compliance, owner, other_owner, 1, clock.today)
    for url in urls:
        client.get(url)  # the first view of the session also reads what every later one has in hand
    few = [_queries(client, url) for url in urls]
    _add(compliance, owner, other_owner, 6, clock.today)
    many = [_queries(client, url) for url in urls]
    assert few == many
