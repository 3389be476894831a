"""WSGI entry point for gunicorn."""

import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "isms.settings")

application = get_wsgi_application()

# What loading the application made (Django, every app's modules, URLs and settings) lives as long as the worker:
# moved out of the garbage collector's reach, so that its full collections, which come every few requests, walk
# only what the requests leave behind rather than the whole application each time (docs/benchmarks.md, Auditor
# portal). Workers forked from here also share those pages of memory longer.
gc.freeze()
