"""What happens around every request an auditor makes: the session ends when an engagement it was working
under ends or expires; anything but reading is refused unless it is one of the portal's auditor actions; and
every request is written to the auditor log (who, what, when, from where)."""

from __future__ import annotations

import html
import re
from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in
from django.core.exceptions import PermissionDenied
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import Resolver404, resolve

from isms.foundation.reach import AUDITOR_READS, is_auditor
from isms.foundation.roles import Role

from .models import AuditorAction, Engagement
from .scope import open_engagements, open_now
from .services import action_record

_TITLE = re.compile(rb"<title>(.*?)(?: \xc2\xb7 ISMS tracker)?</title>", re.S)
SESSION_KEY = "isms_portal_engagements"  # the engagements open when this session last made a request
READ_METHODS = {"GET", "HEAD", "OPTIONS"}
# Sign-in, sign-out, password and two-step pages post for the person themselves, not to the ISMS.
OWN_ACCOUNT_URLS = {
    "login",
    "logout",
    "password_change",
    "mfa_settings",
    "mfa_verify",
    "mfa_enrol",
    "mfa_recovery_codes",
    "mfa_turn_off",
    "invitation",
    "sso_start",
    "sso_callback",
}
ENDED = (
    "You were signed out because your access to the audit ({names}) has ended. If you need more time, ask the "
    "organisation's compliance team to extend the engagement."
)


def auditor_post(view: Callable) -> Callable:
    """Mark a portal view as one of an auditor's own actions (draw a sample, ask for evidence, accept an answer,
    ask for a pack): the only writes an auditor may make."""
    view.auditor_post = True
    return view


def no_log(view: Callable) -> Callable:
    """Mark a view whose requests are not worth a log line (a progress bar refreshing itself)."""
    view.auditor_no_log = True
    return view


def _fallback_words(request: HttpRequest, response: HttpResponse) -> str:
    """What a request did, for a page that did not say it in words itself."""
    if response.status_code in (301, 302, 303, 307, 308):
        return f"Opened {request.path}, sent on to {response.get('Location', '')}"
    if response.status_code == 404:
        return f"Asked for {request.path}: not found or not in the engagement"
    if response.status_code == 403:
        return f"Asked for {request.path}: not open to auditors"
    title = _TITLE.search(response.content[:4096]) if not getattr(response, "streaming", False) else None
    if title:
        return f"Opened {html.unescape(title.group(1).decode(errors='replace')).strip()}"
    return f"Opened {request.path}"


@receiver(user_logged_in, dispatch_uid="portal.middleware.auditor_signed_in")
def auditor_signed_in(sender, request: HttpRequest, user, **kwargs) -> None:
    """A sign-in is a line in the log of each engagement open for the auditor (or one outside any)."""
    if request is None or not request.method or getattr(user, "role", None) != Role.AUDITOR:
        return  # not a sign-in over the web (a script's or a test's login)
    engagements = list(open_engagements(user)) or [None]
    for engagement in engagements:
        action_record(
            user=user, kind=AuditorAction.Kind.SIGN_IN, what="Signed in", engagement=engagement, request=request
        )


def _kind(request: HttpRequest, response: HttpResponse) -> str:
    if request.method not in READ_METHODS:
        return getattr(request, "auditor_action_kind", AuditorAction.Kind.VIEW)
    disposition = response.get("Content-Disposition", "")
    if disposition.startswith("attachment"):
        path = request.path.lower()
        return (
            AuditorAction.Kind.EXPORT if path.endswith(("csv", "xlsx", "pdf", "/log/")) else AuditorAction.Kind.DOWNLOAD
        )
    return AuditorAction.Kind.VIEW


class AuditorPortalMiddleware:
    """After the sign-in middlewares (the user is known, the second step passed)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if not is_auditor(user):
            return self.get_response(request)
        try:
            match = resolve(request.path_info)
        except Resolver404:
            match = None
        url_name = match.url_name if match else None
        if url_name in OWN_ACCOUNT_URLS and match.namespace in ("", "accounts"):
            return self.get_response(request)

        # The session ends when an engagement it worked under is no longer open.
        open_titles = {e.pk: e.title for e in open_now(user)}
        before = request.session.get(SESSION_KEY)
        if before is not None and set(before) - set(open_titles):
            gone = [pk for pk in before if pk not in open_titles]
            names = ", ".join(Engagement.objects.filter(pk__in=gone).values_list("title", flat=True))
            logout(request)
            messages.warning(request, ENDED.format(names=names or "the engagement"))
            return redirect("login")
        if before != sorted(open_titles):
            request.session[SESSION_KEY] = sorted(open_titles)

        engagement_id = match.kwargs.get("engagement") if match else None
        if engagement_id is not None and int(engagement_id) not in open_titles:
            engagement_id = None  # not theirs: the view answers 404; the line names no engagement

        func = match.func if match else None
        # Pages open to anyone by a signed token in their address (a digest's own link) act on the token's
        # person, not as the auditor; everything else an auditor posts must be one of their portal actions.
        acts_as_auditor = getattr(func, "login_required", True)
        if request.method not in READ_METHODS and acts_as_auditor and not getattr(func, "auditor_post", False):
            action_record(
                user=user,
                kind=AuditorAction.Kind.REFUSED,
                what=f"Tried to change something ({request.method} {request.path}): refused",
                engagement=engagement_id,
                request=request,
                status_code=403,
            )
            raise PermissionDenied(AUDITOR_READS)

        response = self.get_response(request)
        if not getattr(func, "auditor_no_log", False):
            what = getattr(request, "auditor_log", None) or _fallback_words(request, response)
            action_record(
                user=user,
                kind=_kind(request, response),
                what=what if response.status_code < 400 else f"{what} (refused: {response.status_code})",
                engagement=getattr(request, "auditor_engagement", None) or engagement_id,
                request=request,
                status_code=response.status_code,
            )
        return response
