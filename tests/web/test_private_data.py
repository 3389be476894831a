"""Development data under var/ (outgoing mail with live task links, evidence, the secret key, the database) is
readable by its owner only: the data directory is made (or made again) 0700, and `make run` works under umask
077, so everything its web, worker and beat processes write there is 0600."""

import os
import socket
import stat
import subprocess
import sys
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def env_for(data: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "SECRET_KEY")}
    env.update({"DEBUG": "1", "ISMS_DATA_DIR": str(data), "DATABASE_URL": f"sqlite:///{data}/db.sqlite3"})
    return env


def test_settings_make_the_data_directory_private(tmp_path):
    data = tmp_path / "var"
    data.mkdir(mode=0o755)
    data.chmod(0o755)  # made readable by everyone by an older version
    subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env={**env_for(data), "DJANGO_SETTINGS_MODULE": "isms.settings"},
        check=True,
        timeout=60,
    )
    assert mode(data) == 0o700
    assert mode(data / "secret_key") == 0o600


def test_make_run_writes_its_files_for_its_owner_only(tmp_path):
    data = tmp_path / "var"
    with socket.socket() as taken:  # runstack stops at the busy port, after taking its lock in var/
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "manage.py", "runstack", "--port", str(port)],
            cwd=ROOT,
            env=env_for(data),
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert "already in use" in result.stderr
    assert mode(data) == 0o700
    assert mode(data / "run.lock") == 0o600
