"""The production compose file: Django trusts X-Forwarded-Proto only because gunicorn is reachable through the
TLS reverse proxy alone, which sets that header itself; gunicorn runs with the config that hides secrets."""

from pathlib import Path

import yaml
from django.conf import settings

ROOT = Path(settings.BASE_DIR)


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_only_the_proxy_is_published_when_the_forwarded_header_is_trusted():
    services = compose()["services"]
    web_env = services["web"]["environment"]
    assert str(web_env["SECURE_PROXY_SSL_HEADER"]).endswith("true}")
    for name in ("web", "worker", "beat", "migrate", "db", "redis"):
        assert "ports" not in services[name], f"{name} must not be published"
    proxy = services["proxy"]
    assert proxy["image"].startswith("caddy")
    assert {p.split(":")[-1] for p in proxy["ports"]} == {"80", "443"}
    assert "./deploy/Caddyfile:/etc/caddy/Caddyfile:ro" in proxy["volumes"]


def test_the_caddyfile_proxies_to_gunicorn_over_tls():
    caddyfile = (ROOT / "deploy" / "Caddyfile").read_text()
    assert "reverse_proxy web:8000" in caddyfile
    assert "{$SITE_HOST" in caddyfile  # a named site: Caddy serves it over https and redirects http


def test_gunicorn_runs_with_the_config_that_hides_secrets():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert '"-c", "deploy/gunicorn.conf.py"' in dockerfile
