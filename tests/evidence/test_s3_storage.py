"""Evidence files can live in an S3-compatible bucket (django-storages). S3 is outside this machine, so it
is the one thing mocked (moto); the app's own code runs for real: upload, hash, download, delete."""

import hashlib

import boto3
import pytest
from django.core.files.storage import storages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from evidence.models import EvidenceItem
from evidence.services import evidence_add_file, evidence_delete
from tests.factories import make_control

moto = pytest.importorskip("moto")

BUCKET = "isms-evidence-test"


@pytest.fixture
def s3(settings):
    with moto.mock_aws():
        boto3.client("s3", region_name="eu-west-2").create_bucket(
            Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-2"}
        )
        settings.STORAGES = {
            **settings.STORAGES,
            "default": {
                "BACKEND": "storages.backends.s3.S3Storage",
                "OPTIONS": {
                    "bucket_name": BUCKET,
                    "region_name": "eu-west-2",
                    "access_key": "test",
                    "secret_key": "test",
                    "location": "evidence-store",
                    "default_acl": None,
                    "file_overwrite": False,
                },
            },
        }
        storages._storages = {}  # drop cached storage instances built from the old setting
        yield boto3.client("s3", region_name="eu-west-2")
        storages._storages = {}


def keys(client) -> list[str]:
    return [o["Key"] for o in client.list_objects_v2(Bucket=BUCKET).get("Contents", [])]


def test_evidence_is_stored_in_the_bucket_served_and_deleted_from_it(
    s3, client_as, owner, admin_user, django_capture_on_commit_callbacks
):
    content = b"quarterly access review: 42 accounts confirmed\n"
    control = make_control(owner)
    item = evidence_add_file(upload=SimpleUploadedFile("review.csv", content), by=owner, source="web", control=control)
    item = EvidenceItem.objects.get(pk=item.pk)  # fresh instance: the file field must resolve to S3 storage
    [key] = keys(s3)
    assert key.startswith("evidence-store/evidence/") and key.endswith(item.file.name.rsplit("/", 1)[-1])
    assert s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() == content
    assert item.sha256 == hashlib.sha256(content).hexdigest()

    response = client_as(owner).get(reverse("evidence:download", args=[item.pk]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == content
    assert 'attachment; filename="review.csv"' in response["Content-Disposition"]

    with django_capture_on_commit_callbacks(execute=True):  # the file goes once the tombstone is committed
        evidence_delete(item=item, by=admin_user, reason="Uploaded to the wrong control")
    assert keys(s3) == []
