"""Two-step sign-in: after the password (or single sign-on), a six-digit code from an authenticator app, or one of
the person's single-use recovery codes. django-otp keeps the devices (a TOTP device, and a "static" device holding the
recovery codes) and marks the session verified; this module holds the rule of who must use it and the gate that
sends a person to the second step, or to setting it up, before any other page.

Who must: the roles in MFA_REQUIRED_ROLES (production: administrators, the compliance team and auditors). Anyone
else may set it up, and once they have, their sign-ins ask for it as well."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import Resolver404, resolve, reverse
from django.utils.http import urlencode
from django_otp import user_has_device

#: Pages a person part-way through signing in may open: the second step itself, setting it up, signing out, and
#: the pages that need no sign-in at all (the login page's redirect, health check, the emailed links' pages).
_OPEN_NAMES = frozenset({"mfa_verify", "mfa_enrol", "logout", "login", "health", "robots", "jsi18n"})


#: Set at sign-in when the session needs no second step (no authenticator, role does not require one).
_NOTHING_ASKED = "isms_two_step_none"


def required_for(user) -> bool:
    """Does this person's role require two-step sign-in?"""
    return getattr(user, "role", None) in settings.MFA_REQUIRED_ROLES


def is_enrolled(user) -> bool:
    """Has this person a confirmed authenticator?"""
    return user_has_device(user, confirmed=True)


def pending_step(request: HttpRequest) -> str | None:
    """For a signed-in person whose session has not passed the second step: "verify" (they have an authenticator),
    "enrol" (their role requires one and they have none yet), or None (nothing more is asked)."""
    user = request.user
    if not user.is_authenticated or user.is_verified():
        return None
    if request.session.get(_NOTHING_ASKED) == f"{user.pk}:{user.role}" and not required_for(user):
        return None  # decided at sign-in: no query on every page
    if is_enrolled(user):
        return "verify"
    if required_for(user):
        return "enrol"
    return None


@receiver(user_logged_in, dispatch_uid="isms.accounts.mfa.decide")
def decide_at_sign_in(sender, request: HttpRequest, user, **kwargs) -> None:
    """Note in the session, once, that this sign-in needs no second step (no authenticator, role does not require
    one), so pages do not ask again."""
    if request is not None and hasattr(request, "session") and not required_for(user) and not is_enrolled(user):
        request.session[_NOTHING_ASKED] = f"{user.pk}:{user.role}"


class TwoStepMiddleware:
    """After OTPMiddleware and the session limits: a half-signed-in person reaches nothing but the second step."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        step = pending_step(request)
        request.sign_in_pending = step  # the page shows no navigation until sign-in is complete
        if step and not self._open(request):
            url = reverse("mfa_verify" if step == "verify" else "mfa_enrol")
            htmx = request.headers.get("HX-Request") == "true"  # read here: django-htmx's middleware comes later
            if request.method == "GET" and not htmx:
                url += "?" + urlencode({"next": request.get_full_path()})
            if htmx:
                response = HttpResponse(status=204)
                response["HX-Redirect"] = url
                return response
            return redirect(url)
        return self.get_response(request)

    @staticmethod
    def _open(request: HttpRequest) -> bool:
        try:
            match = resolve(request.path_info)
        except Resolver404:
            return True  # a 404 page tells nothing
        return match.namespace == "" and match.url_name in _OPEN_NAMES
