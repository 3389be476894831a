"""examples/push_scan_report.py against a running server: records the report once, however often it runs."""

import os
import subprocess
import sys
from pathlib import Path

from evidence.models import EvidenceItem
from tests.api.conftest import PDF
from tests.factories import make_control

SCRIPT = Path(__file__).resolve().parents[2] / "examples" / "push_scan_report.py"


def _run(env: dict, *args: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in ("ISMS_URL", "ISMS_TOKEN", "CONTROL_ID")}
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], env={**clean, **env}, capture_output=True, text=True, timeout=60
    )


def test_the_script_pushes_a_report_once_and_a_rerun_changes_nothing(live_server, api, owner, stored_files, tmp_path):
    control = make_control(owner)
    report = tmp_path / "scan-latest.pdf"
    report.write_bytes(PDF)
    env = {
        "ISMS_URL": live_server.url,
        "ISMS_TOKEN": api(owner, scopes=["evidence:write"]).secret,
        "CONTROL_ID": str(control.pk),
    }

    first = _run(env, str(report))
    assert first.returncode == 0, first.stderr
    item = EvidenceItem.objects.get()
    assert first.stdout.startswith(f"Recorded: evidence {item.pk} (Vulnerability scan report ")
    assert item.source == "api" and item.control == control and item.original_name == "scan-latest.pdf"
    assert item.period_start.day == 1 and item.period_end.month == item.period_start.month

    again = _run(env, str(report))
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith(f"Already recorded: evidence {item.pk} ")
    assert EvidenceItem.objects.count() == 1 and len(stored_files()) == 1


def test_the_script_reports_a_refusal_and_its_configuration_errors(live_server, api, owner, tmp_path):
    report = tmp_path / "scan.pdf"
    report.write_bytes(PDF)
    env = {"ISMS_URL": live_server.url, "ISMS_TOKEN": api(owner).secret, "CONTROL_ID": "999999"}
    refused = _run(env, str(report))
    assert refused.returncode == 1
    assert "Refused (400)" in refused.stderr and "No control with id 999999." in refused.stderr

    unset = _run({"ISMS_URL": live_server.url}, str(report))
    assert unset.returncode == 2 and "Not set: ISMS_TOKEN, CONTROL_ID." in unset.stderr
