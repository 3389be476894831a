"""OpenID Connect single sign-on, on mozilla-django-oidc (authorization code flow with PKCE and a nonce; the ID token's
signature checked against the provider's published keys). On only when OIDC_RP_CLIENT_ID is set.

Our rules on top of the library's: a person is matched to an existing, active account by the email address the
provider vouches for (not verified → refused); an address nobody has is refused unless OIDC_CREATE_USERS is on
(then the account gets OIDC_NEW_USER_ROLE); the role is never taken from the provider unless OIDC_ROLE_CLAIM names
the claim that carries it (a value that is not one of our roles is ignored). A refusal says why on the login page.
After the provider, two-step sign-in applies as after a password (isms/accounts/mfa.py)."""

from __future__ import annotations

import logging

import requests
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from isms.foundation.roles import Role

from .models import User
from .services import _username_for

log = logging.getLogger(__name__)

_REFUSAL = "isms_sso_refusal"  # why the backend refused, for the login page (kept on the request)
NO_ACCOUNT = (
    "Single sign-on worked, but no account here has the email address {email}. Ask an administrator to invite you "
    "with that address."
)
NOT_VERIFIED = "Your sign-in service has not verified your email address, so it cannot be matched to an account here."
NO_EMAIL = "Your sign-in service did not give an email address, so it cannot be matched to an account here."
AMBIGUOUS = "More than one account here has the email address {email}. Ask an administrator to sort this out."
INACTIVE = "Your account here is deactivated. Ask an administrator if this is a mistake."
FAILED = "Single sign-on did not complete. Try again, or sign in with your password."


def sso_enabled() -> bool:
    return bool(getattr(settings, "OIDC_ENABLED", False))


class SSOBackend(OIDCAuthenticationBackend):
    """The library's backend, inert while single sign-on is off (it is always listed in AUTHENTICATION_BACKENDS, so
    password sign-in must not need its settings)."""

    def __init__(self, *args, **kwargs):
        if sso_enabled():
            super().__init__(*args, **kwargs)
        else:
            from django.contrib.auth import get_user_model

            self.UserModel = get_user_model()

    def authenticate(self, request, **kwargs):
        if not sso_enabled() or request is None or "nonce" not in kwargs:
            return None  # a password sign-in (the callback view alone passes the nonce): not ours
        return super().authenticate(request, **kwargs)

    def _refuse(self, message: str) -> None:
        setattr(self.request, _REFUSAL, message)
        raise SuspiciousOperation(message)

    def verify_claims(self, claims) -> bool:
        if not claims.get("email"):
            self._refuse(NO_EMAIL)
        if claims.get("email_verified") is False:
            self._refuse(NOT_VERIFIED)
        return True

    def filter_users_by_claims(self, claims):
        users = self.UserModel.objects.filter(email__iexact=claims["email"])
        if len(users) > 1:
            self._refuse(AMBIGUOUS.format(email=claims["email"]))
        if users and not users[0].is_active:
            self._refuse(INACTIVE)
        if not users and not settings.OIDC_CREATE_USERS:
            self._refuse(NO_ACCOUNT.format(email=claims["email"]))
        return users

    def _role_from(self, claims) -> str | None:
        claim = settings.OIDC_ROLE_CLAIM
        if not claim:
            return None
        value = claims.get(claim)
        values = value if isinstance(value, list) else [value]
        # The most reaching of the roles given, if several (a group list).
        for role in (Role.ADMIN, Role.COMPLIANCE, Role.VIEWER, Role.OWNER, Role.AUDITOR):
            if role.value in values:
                return role.value
        return None

    def create_user(self, claims) -> User:
        role = self._role_from(claims) or settings.OIDC_NEW_USER_ROLE
        if role not in Role.values:
            role = Role.OWNER
        user = User(
            username=_username_for(claims["email"]),
            email=claims["email"],
            first_name=(claims.get("given_name") or "")[:150],
            last_name=(claims.get("family_name") or "")[:150],
            role=role,
        )
        user.set_unusable_password()
        user.save()
        log.info("User %s created by single sign-on with role %s", user.pk, role)
        return user

    def update_user(self, user: User, claims) -> User:
        role = self._role_from(claims)
        if role and role != user.role:
            user.role = role
            user.save(update_fields=["role"])
            log.info("User %s given role %s by single sign-on", user.pk, role)
        return user

    def get_user(self, user_id):
        user = super().get_user(user_id)
        return user if user is not None and user.is_active else None


class SSOStartView(OIDCAuthenticationRequestView):
    pass


class SSOCallbackView(OIDCAuthenticationCallbackView):
    @property
    def success_url(self) -> str:
        return self.request.session.get("oidc_login_next") or reverse(settings.LOGIN_REDIRECT_URL)

    def login_failure(self) -> HttpResponse:
        reason = getattr(self.request, _REFUSAL, None)
        if self.request.GET.get("error") == "access_denied":
            reason = "Single sign-on was cancelled. Sign in again when you are ready."
        messages.error(self.request, reason or FAILED)
        return HttpResponseRedirect(reverse("login"))


@login_not_required
def sso_start(request: HttpRequest) -> HttpResponse:
    """Send the person to the organisation's sign-in service."""
    if not sso_enabled():
        raise Http404("Single sign-on is not set up here.")
    return SSOStartView.as_view()(request)


@login_not_required
def sso_callback(request: HttpRequest) -> HttpResponse:
    """Where the sign-in service sends the person back: the code is exchanged and checked, then they are signed in."""
    if not sso_enabled():
        raise Http404("Single sign-on is not set up here.")
    try:
        return SSOCallbackView.as_view()(request)
    except (SuspiciousOperation, requests.RequestException):
        # A state that is not this browser's (an old or forged link), or the provider refusing the code or unreachable.
        log.warning("Single sign-on callback refused", exc_info=True)
        messages.error(request, FAILED)
        return HttpResponseRedirect(reverse("login"))
