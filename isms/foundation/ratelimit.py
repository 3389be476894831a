"""A small per-address limit on posts to pages an outsider can reach (the login, the emailed task link).

Fixed window in Django's cache: at most RATE_LIMIT_REQUESTS posts from one address in each
RATE_LIMIT_WINDOW_SECONDS, per scope. Past that the sender gets a 429 page saying to wait. If the cache cannot
be reached the request goes through (the lockout and the link's own checks still apply): a broken cache must not
lock everyone out of signing in."""

import functools
import logging
import time
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

logger = logging.getLogger(__name__)


def client_address(request: HttpRequest) -> str:
    """The sender's address: REMOTE_ADDR, or behind our own reverse proxy (SECURE_PROXY_SSL_HEADER set) the
    address that proxy appended last to X-Forwarded-For (earlier entries are whatever the client sent)."""
    if getattr(settings, "SECURE_PROXY_SSL_HEADER", None):
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if forwarded:
            return forwarded[-1]
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def over_limit(scope: str, address: str, *, now: float | None = None) -> int:
    """Count one request of `address` in `scope`; the seconds until its window ends if it is over the limit,
    else 0."""
    window = settings.RATE_LIMIT_WINDOW_SECONDS
    now = time.time() if now is None else now
    start = int(now // window) * window
    key = f"ratelimit:{scope}:{address}:{start}"
    try:
        cache.add(key, 0, timeout=window + 5)
        count = cache.incr(key)
    except Exception:  # the cache is down or lost the key: let the request through, say so in the log
        logger.warning("Rate limit for %s not checked: the cache did not answer", scope, exc_info=True)
        return 0
    if count > settings.RATE_LIMIT_REQUESTS:
        return max(1, int(start + window - now))
    return 0


def too_many(request: HttpRequest, retry_after: int) -> HttpResponse:
    """The 429 page, in words a person can act on."""
    response = render(request, "429.html", {"retry_after": retry_after}, status=429)
    response["Retry-After"] = str(retry_after)
    return response


def rate_limited(scope: str, methods: tuple[str, ...] = ("POST",)) -> Callable:
    """View decorator: limit `methods` (posts by default) per client address in `scope`."""

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs):
            if request.method in methods:
                retry_after = over_limit(scope, client_address(request))
                if retry_after:
                    logger.info("Rate limit: %s from %s refused", scope, client_address(request))
                    return too_many(request, retry_after)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
