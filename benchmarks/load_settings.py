"""Settings for `make loadtest` (benchmarks/loadtest.py): the production settings (isms.settings, read from the
environment the load test sets: DEBUG off, a throwaway SECRET_KEY, ALLOWED_HOSTS=127.0.0.1, plain http on
loopback) with the benchmark's own URL module, which adds the floor view. Never used outside the benchmark."""

from isms.settings import *  # noqa: F403

# The production URLs plus the floor view (benchmarks/load_urls.py); isms.urls itself is unchanged.
ROOT_URLCONF = "benchmarks.load_urls"
# Nothing is mailed during a load test; if a page ever tried, the message stays in memory.
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
