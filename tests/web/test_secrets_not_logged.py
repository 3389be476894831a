"""Calendar feed tokens never reach a log: not gunicorn's access log, not Django's "Not Found" warnings."""

import datetime
import io
import logging
import runpy
from pathlib import Path
from types import SimpleNamespace

from django.conf import settings

from isms.foundation.logs import RedactSecrets

SECRET = "s3cr3t-feed-token-0123456789abcdef"
FEED = f"/calendar/feeds/{SECRET}/mine.ics"


def test_django_logs_hide_a_feed_token(client, db, monkeypatch):
    handlers = [h for h in logging.getLogger().handlers if any(isinstance(f, RedactSecrets) for f in h.filters)]
    assert handlers, "the console handler carries the RedactSecrets filter"
    out = io.StringIO()
    monkeypatch.setattr(handlers[0], "stream", out)
    assert client.get(FEED).status_code == 404  # logged by Django as "Not Found: <path>"
    logged = out.getvalue()
    assert "Not Found: /calendar/feeds/[hidden]/mine.ics" in logged
    assert SECRET not in logged


def test_gunicorns_access_log_hides_a_feed_token():
    conf = runpy.run_path(str(Path(settings.BASE_DIR) / "deploy" / "gunicorn.conf.py"))
    logger = conf["logger_class"].__new__(conf["logger_class"])
    logger.cfg = SimpleNamespace(logconfig_dict={}, logconfig_json=None)
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": f"{FEED}?token={SECRET}",
        "PATH_INFO": FEED,
        "QUERY_STRING": f"token={SECRET}",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_REFERER": f"https://isms.example.com{FEED}",
        "REMOTE_ADDR": "10.0.0.2",
    }
    resp = SimpleNamespace(status="200 OK", sent=10, headers=[])
    req = SimpleNamespace(headers=[("X-FORWARDED-FOR", "203.0.113.9")])
    atoms = logger.atoms(resp, req, environ, datetime.timedelta(milliseconds=5))
    line = conf["access_log_format"] % logger.atoms_wrapper_class(atoms)
    assert SECRET not in line
    assert "/calendar/feeds/[hidden]/mine.ics" in line and "203.0.113.9" in line
