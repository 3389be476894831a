"""Bearer tokens for the API: `Authorization: Bearer <token>`, looked up by the SHA-256 of the secret.

Browser sessions are not accepted by the API (so there is no CSRF to think about): a script always says
who it acts for with its token."""

import datetime

from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed

from evidence.models import ApiToken
from isms.foundation.roles import STAFF

from .services import hash_secret

# last_used_at is written at most this often per token, so a busy script does not write on every request.
LAST_USED_PRECISION = datetime.timedelta(minutes=1)
HOW_TO = "Send the token as: Authorization: Bearer <token>."


class BearerTokenAuthentication(BaseAuthentication):
    """Acts as the token's user; refuses unknown, revoked and expired tokens and inactive accounts with a 401."""

    keyword = b"bearer"

    def authenticate(self, request):
        header = get_authorization_header(request)
        if not header:
            return None
        parts = header.split()
        if parts[0].lower() != self.keyword:
            raise AuthenticationFailed(
                f"This API takes a token, not {parts[0][:20].decode(errors='replace')}. {HOW_TO}"
            )
        if len(parts) != 2:
            raise AuthenticationFailed(f"The Authorization header is malformed. {HOW_TO}")
        try:
            secret = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise AuthenticationFailed("This token is not recognised.") from None
        token = ApiToken.objects.select_related("user").filter(key_hash=hash_secret(secret)).first()
        if token is None:
            raise AuthenticationFailed("This token is not recognised. Check it was copied whole, or make a new one.")
        now = timezone.now()
        refusal = token.refusal(now)
        if refusal:
            raise AuthenticationFailed(f"{refusal} Make a new token under API tokens.")
        user = token.user
        if not user.is_active:
            raise AuthenticationFailed("The account this token acts for is deactivated.")
        if user.role not in STAFF:
            raise AuthenticationFailed("The account this token acts for no longer has API access (not on the staff).")
        if token.last_used_at is None or now - token.last_used_at > LAST_USED_PRECISION:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return user, token

    def authenticate_header(self, request) -> str:
        # Makes DRF answer 401 (with WWW-Authenticate) rather than 403 when credentials are missing or wrong.
        return 'Bearer realm="api"'


class BearerTokenScheme(OpenApiAuthenticationExtension):
    """Tells drf-spectacular how the API authenticates, so the schema and Swagger UI offer a token field."""

    target_class = BearerTokenAuthentication
    name = "bearerToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An API token made under API tokens (/api/tokens/), sent as "
            "`Authorization: Bearer <token>`.",
        }
