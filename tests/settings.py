"""Test settings: the real settings module, run in production mode with test-only conveniences.

Tests see production defaults (DEBUG off), so what they check is what runs in production; only the
secret, HTTPS redirect, password hashing speed and storage paths differ."""

import os
import tempfile

os.environ.setdefault("SECRET_KEY", "tests-only-secret-key-that-is-long-enough-for-django-checks-0123456789")
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
os.environ.setdefault("STATIC_MANIFEST", "false")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
# Two-step sign-in required of nobody, as in `make run`: tests that are about it ask it of a role themselves.
os.environ.setdefault("MFA_REQUIRED_ROLES", "")
os.environ.setdefault("ISMS_DATA_DIR", tempfile.mkdtemp(prefix="isms-test-"))

from isms.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
# Each test process counts rate limits for itself (never in CI's shared Redis); tests/conftest.py clears it per test.
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "OPTIONS": {"MAX_ENTRIES": 50_000}},
    # Pages too (tests/conftest.py clears them per test): the whole suite runs with the page cache on.
    "pages": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "pages"},
}
