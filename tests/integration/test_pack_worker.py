"""An evidence pack built by a real Celery worker on Redis: asked for as the auditor does, built by the worker,
checked with tools/verify_pack.py; the same message delivered again does not build it twice."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from evidence.services import evidence_add_file
from portal.models import Engagement, EvidencePack, PackState
from portal.packs import pack_path, pack_request
from portal.tasks import build_evidence_pack
from tests.factories import make_control, make_requirement
from tests.integration.conftest import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
VERIFY = Path(__file__).resolve().parents[2] / "tools" / "verify_pack.py"


def test_the_worker_builds_a_pack_the_auditor_can_verify(
    run_worker, compliance, owner, engaged_auditor, settings, tmp_path
):
    settings.EVIDENCE_PACKS_DIR = tmp_path / "packs"
    control = make_control(owner, reference="AC-01", requirements=[make_requirement()])
    for name in ("review.txt", "policy.txt"):
        evidence_add_file(
            upload=SimpleUploadedFile(name, name.encode() * 100), by=compliance, source="web", control=control
        )
    engagement = Engagement.objects.get(auditors=engaged_auditor)

    with run_worker() as log:
        pack = pack_request(by=engaged_auditor, engagement=engagement)  # sent to the broker on commit
        wait_for(
            lambda: EvidencePack.objects.get(pk=pack.pk).state in (PackState.READY, PackState.FAILED),
            timeout=120,
            what="the worker to build the pack",
        )
        build_evidence_pack.delay(pack.pk)  # delivered again: left alone
        wait_for(lambda: len(log.finished("portal.build_evidence_pack")) == 2, what="the second delivery")

    pack.refresh_from_db()
    assert pack.state == PackState.READY, pack.error
    assert pack.files_done == 2
    assert [t["retval"] for t in log.finished("portal.build_evidence_pack")] == ["ready", None]
    check = subprocess.run(
        [sys.executable, "-I", "-S", str(VERIFY), str(pack_path(pack))], capture_output=True, text=True
    )
    assert check.returncode == 0, check.stdout
    assert "OK: 7 files match the signed manifest." in check.stdout
