"""The demo organisation loads idempotently; `make run` refuses to start twice on the same data."""

import fcntl
import os
import subprocess
import sys
from pathlib import Path

import pytest

from controls.models import Control, Requirement
from isms.accounts.models import User
from isms.foundation.roles import Role
from isms.maintenance.models import Occurrence, Schedule
from isms.organisation.models import Certificate, CycleAudit, Organisation
from isms.web.demo import demo_load
from portal.models import Engagement

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
def test_demo_load_twice_gives_one_of_everything():
    demo_load(password="demo-pass-1")
    first_history = Occurrence.objects.filter(events__isnull=False).distinct().count()
    assert first_history > 10
    demo_load(password="demo-pass-2")
    logins = [u.username for u in User.objects.all() if u.has_usable_password()]
    assert sorted(logins) == ["admin", "auditor", "compliance", "owner", "viewer"]
    assert User.objects.count() == 9  # plus three control owners who only use task links, and one who left
    assert not User.objects.get(username="sam").is_active
    assert {u.username: u.role for u in User.objects.all()}["compliance"] == Role.COMPLIANCE
    assert User.objects.get(username="owner").check_password("demo-pass-2")
    assert Organisation.objects.count() == 1
    assert Certificate.objects.count() == 1
    assert CycleAudit.objects.count() == 3
    assert Control.objects.count() == 8
    assert Requirement.objects.filter(framework__code="iso27001-2022-annex-a").count() == 93
    assert Control.objects.get(reference="AC-01").schedules.count() == 1
    # 11 activities, the leaver's task, 3 certification audits; 24 risk reviews, 10 treatment actions, 3 renewals;
    # events: 8 supplier reviews, 6 reviews of 2 changes, 7 contract ends, 6 certificate expiries, 4 progress updates;
    # audits: 38 audits (a year of monthly internal audits, the stage 2 audit and the cycle's slots to come), 5
    # corrective actions, 3 effectiveness checks, 2 management reviews and 2 review actions; the portal: 2 evidence
    # requests of the auditor
    assert Schedule.objects.count() == 15 + 24 + 10 + 3 + 31 + 38 + 5 + 3 + 2 + 2 + 2
    assert Occurrence.objects.filter(events__isnull=False).distinct().count() == first_history
    # The demo auditor lands in an open engagement with a sample and two evidence requests, one answered.
    engagement = Engagement.objects.get(auditors__username="auditor")
    assert engagement.status == "open"
    assert engagement.samples.count() == 1 and engagement.samples.get().items.count() >= 5
    assert sorted(engagement.requests.values_list("state", flat=True)) == ["answered", "open"]


def test_runstack_refuses_when_another_is_running(tmp_path):
    lock = open(tmp_path / "run.lock", "w")  # noqa: SIM115
    lock.write("4242")
    lock.flush()
    fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env.update({"DEBUG": "1", "ISMS_DATA_DIR": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3"})
    result = subprocess.run(
        [sys.executable, "manage.py", "runstack", "--port", "18765"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    lock.close()
    assert result.returncode != 0
    assert "`make run` is already running (pid 4242)" in result.stderr
    assert not (tmp_path / "db.sqlite3").exists(), "nothing may touch the data while the other run holds it"
