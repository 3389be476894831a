"""API answers kept for retries are forgotten after 30 days."""

import datetime

import pytest
from django.utils import timezone

from evidence.models import IdempotencyRecord
from evidence.services import idempotency_records_prune


@pytest.mark.django_db
def test_old_idempotency_records_are_pruned(owner, clock):
    now = timezone.now()  # frozen by `clock`: the 29- and 30-day boundaries cannot drift during the test
    for key, age in (("old", 31), ("recent", 29)):
        IdempotencyRecord.objects.create(
            user=owner,
            key=key,
            fingerprint="f",
            method="POST",
            path="/api/v1/evidence/",
            response_status=201,
            response_body={},
            created_at=now - datetime.timedelta(days=age),
        )
    assert idempotency_records_prune() == 1
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["recent"]
