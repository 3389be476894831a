"""Session limits: a signed-in session ends after SESSION_IDLE_MINUTES without a request, and SESSION_MAX_HOURS
after sign-in however busy it is; and at once when the person's account changes under it: deactivated, or given
another role (a stamp of both is kept at sign-in). A changed password ends it too (Django's own session hash). The
person is signed out and the login page says why."""

from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

STARTED = "isms_session_started"  # when this sign-in began (epoch seconds)
SEEN = "isms_session_seen"  # the last request of it, kept to the minute (a session write at most once a minute)
ACCESS = "isms_session_access"  # the role and active flag the person signed in with
_SEEN_STEP = 60


def _hours(n: int) -> str:
    return "1 hour" if n == 1 else f"{n} hours"


def _minutes(n: int) -> str:
    return "1 minute" if n == 1 else f"{n} minutes"


def session_expired(session, now: float) -> str | None:
    """Why this signed-in session has ended (words for the person), or None while it may go on."""
    started, seen = session.get(STARTED), session.get(SEEN)
    if started is None or seen is None:
        return None
    if now - started > settings.SESSION_MAX_HOURS * 3600:
        return (
            f"You were signed out because you had been signed in for {_hours(settings.SESSION_MAX_HOURS)}. "
            "Sign in again to go on."
        )
    if now - seen > settings.SESSION_IDLE_MINUTES * 60:
        return (
            f"You were signed out after {_minutes(settings.SESSION_IDLE_MINUTES)} without activity. "
            "Sign in again to go on."
        )
    return None


def access_stamp(user) -> str:
    """What a session's reach was granted on: the role and whether the account is active."""
    return f"{getattr(user, 'role', '')}:{int(bool(user.is_active))}"


def access_changed(session, user) -> str | None:
    """Why this session must end because the account changed since sign-in, or None."""
    stamp = session.get(ACCESS)
    if stamp is None or stamp == access_stamp(user):
        return None
    if not user.is_active:
        return ENDED_INACTIVE
    return "You were signed out because your role was changed. Sign in again to go on with your new role."


ENDED_INACTIVE = "You were signed out because your account was deactivated. Ask an administrator if this is a mistake."


@receiver(user_logged_in, dispatch_uid="isms.foundation.sessions.stamp")
def stamp_sign_in(sender, request: HttpRequest, user, **kwargs) -> None:
    """The clock of both limits starts when a person signs in."""
    if request is not None and hasattr(request, "session"):
        now = timezone.now().timestamp()
        request.session[STARTED] = now
        request.session[SEEN] = now
        request.session[ACCESS] = access_stamp(user)


class SessionLimitMiddleware:
    """After AuthenticationMiddleware and MessageMiddleware: ends a session past its limits, so the login
    requirement that follows sends the person to the login page with the reason."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and not user.is_authenticated and STARTED in request.session:
            # Signed in, but the account no longer answers for this session (the authentication backend refuses a
            # deactivated one): end it, saying why, instead of leaving it half open.
            request.session.flush()
            messages.info(request, ENDED_INACTIVE)
        elif user is not None and user.is_authenticated:
            now = timezone.now().timestamp()
            reason = access_changed(request.session, user) or session_expired(request.session, now)
            if reason:
                logout(request)  # a new, empty session
                messages.info(request, reason)
            else:
                request.session.setdefault(STARTED, now)
                if now - request.session.get(SEEN, 0) >= _SEEN_STEP:
                    request.session[SEEN] = now
        return self.get_response(request)
