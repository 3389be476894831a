"""Production settings are safe by default and refuse to start with a missing or wrong setting."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def manage(*args, env_extra, tmp_path):
    # Start from the real environment, less what tests/settings.py sets for the test process itself.
    test_only = {
        "DEBUG",
        "SECRET_KEY",
        "DJANGO_SETTINGS_MODULE",
        "SECURE_SSL_REDIRECT",
        "STATIC_MANIFEST",
        "ALLOWED_HOSTS",
        "DJANGO_ALLOW_ASYNC_UNSAFE",  # set by the browser tests for their own process
    }
    env = {k: v for k, v in os.environ.items() if k not in test_only}
    env.update({"ISMS_DATA_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "isms.settings", **env_extra})
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_check_deploy_passes_with_production_settings(tmp_path):
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        env_extra={
            "SECRET_KEY": "x8Hq2-Lm9vTz7Rk4Wp1sNc6Yb3Fd5Gj0Ae8Ku2Qo4Ir7Vt9Xs1Zw3Ey6Ph5Mn0Lb",
            "ALLOWED_HOSTS": "isms.example",
        },
        tmp_path=tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_production_without_secret_key_refuses_to_start_with_a_clear_message(tmp_path):
    result = manage("check", env_extra={}, tmp_path=tmp_path)
    assert result.returncode == 2
    assert "Configuration error: SECRET_KEY is not set." in result.stderr
    assert "Traceback" not in result.stderr


def test_a_boolean_that_is_not_one_is_refused(tmp_path):
    result = manage("check", env_extra={"DEBUG": "ture"}, tmp_path=tmp_path)
    assert result.returncode == 2
    assert "DEBUG='ture' is not a boolean" in result.stderr


def test_development_generates_and_keeps_a_secret_key(tmp_path):
    first = manage("check", env_extra={"DEBUG": "1"}, tmp_path=tmp_path)
    assert first.returncode == 0, first.stderr
    key = (tmp_path / "secret_key").read_text()
    assert len(key) >= 50
    manage("check", env_extra={"DEBUG": "1"}, tmp_path=tmp_path)
    assert (tmp_path / "secret_key").read_text() == key


@pytest.mark.parametrize("command", [["load_demo"]])
def test_demo_refuses_to_load_in_production(tmp_path, command):
    result = manage(
        *command, env_extra={"SECRET_KEY": "k" * 60, "DATABASE_URL": f"sqlite:///{tmp_path}/db"}, tmp_path=tmp_path
    )
    assert result.returncode != 0
    assert "demo logins must never exist in production" in result.stderr
