"""Writes behind the evidence API: issuing and revoking tokens, and answering a retried write exactly once."""

import datetime
import hashlib
import json
import re
import secrets
from collections.abc import Callable

from dateutil.relativedelta import relativedelta
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from evidence.models import ApiToken, IdempotencyRecord
from evidence.services import files_removed_on_error
from isms.accounts.models import User
from isms.foundation import reach
from isms.foundation.roles import STAFF

# ------------------------------------------------------------------------------------------------ tokens


def hash_secret(secret: str) -> str:
    """What is stored and looked up: the SHA-256 of the secret, never the secret itself."""
    return hashlib.sha256(secret.encode()).hexdigest()


#: A token expires at most this far ahead: a forgotten token stops working on its own, and the date stays a date.
MAX_EXPIRY_YEARS = 2
MAX_EXPIRY_WORDS = "two years"


def token_latest_expiry_day() -> datetime.date:
    """The last day a token made today may work until: two years from today."""
    return timezone.localdate() + relativedelta(years=MAX_EXPIRY_YEARS)


def token_latest_expiry() -> datetime.datetime:
    """The latest moment a token made now may expire: the end of `token_latest_expiry_day()`."""
    day = token_latest_expiry_day() + datetime.timedelta(days=1)
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def service_accounts():
    """Active staff accounts that cannot sign in with a password: the users a manager may issue tokens for."""
    return User.objects.filter(is_active=True, role__in=STAFF, password__startswith=UNUSABLE_PASSWORD_PREFIX)


def may_issue_for(by, user) -> bool:
    """Anyone on the staff may make tokens for themselves; a manager also for a service account.

    A manager may not make a token acting as another person: evidence would then carry that person's
    name without their doing."""
    if user.pk == by.pk:
        return True
    return by.is_manager and service_accounts().filter(pk=user.pk).exists()


def token_create(
    *, user, by, name: str, scopes: list[str], expires_at: datetime.datetime | None = None
) -> tuple[ApiToken, str]:
    """Issue a token acting as `user`. Returns the token and its secret, which is not stored and cannot be
    shown again."""
    if not user.is_active or user.role not in STAFF:
        raise ValidationError(f"{user} cannot hold an API token (inactive, or not on the staff).")
    if not may_issue_for(by, user):
        raise PermissionDenied("You may make tokens only for yourself (managers: also for service accounts).")
    unknown = set(scopes) - set(ApiToken.Scope.values)
    if unknown or not scopes:
        raise ValidationError(f"Choose one or more scopes from {', '.join(ApiToken.Scope.values)}.")
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError("The expiry is in the past.")
    if expires_at is not None and expires_at > token_latest_expiry():
        raise ValidationError(
            f"Choose an expiry no more than {MAX_EXPIRY_WORDS} ahead ({token_latest_expiry_day():%-d %B %Y} at the "
            "latest); make a new token when it ends."
        )
    secret = secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        created_by=by,
        name=name.strip(),
        prefix=secret[:8],
        key_hash=hash_secret(secret),
        scopes=sorted(set(scopes)),
        expires_at=expires_at,
    )
    return token, secret


def may_revoke(by, token: ApiToken) -> bool:
    """A token's own user revokes it; the compliance team may revoke anyone's (a leaver, a leaked secret)."""
    return reach.may(by, "revoke", token)


def token_revoke(*, token: ApiToken, by) -> ApiToken:
    """Revoke at once; the row stays so the record of who could use the API, and until when, survives."""
    if not may_revoke(by, token):
        raise PermissionDenied("Only the token's own user or the compliance team can revoke it.")
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now(), revoked_by=by)
    token.refresh_from_db()
    return token


# ----------------------------------------------------------------------------------------- idempotency

KEY_HEADER = "Idempotency-Key"
KEY_MAX_LENGTH = 255


KEY_PATTERN = r"^[!-~]{1,255}$"


def idempotency_key(request) -> str | None:
    """The client's key, checked: 1–255 visible ASCII characters (no spaces). None when the header is absent."""
    key = request.headers.get(KEY_HEADER)
    if key is None:
        return None
    key = key.strip()
    if not re.fullmatch(KEY_PATTERN, key):
        raise ValidationError(
            f"The {KEY_HEADER} header must be 1 to {KEY_MAX_LENGTH} visible ASCII characters without spaces, "
            "for example a UUID or scan-2026-03-<sha256>."
        )
    return key


def _file_digest(upload: UploadedFile) -> str:
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return digest.hexdigest()


def request_fingerprint(request) -> str:
    """SHA-256 over the method, the path, the body's fields and each uploaded file's name and content hash."""
    data = request.data
    if hasattr(data, "lists"):  # multipart: a QueryDict that also holds the files
        body = sorted(
            [key, value] for key, values in data.lists() for value in values if not isinstance(value, UploadedFile)
        )
    else:
        body = data
    files = sorted(
        [field, upload.name, _file_digest(upload)] for field, uploads in request.FILES.lists() for upload in uploads
    )
    canonical = json.dumps(
        {"method": request.method, "path": request.path, "body": body, "files": files},
        sort_keys=True,
        default=str,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


class KeyReused(Exception):
    """The key was used before for a different request."""

    def __init__(self, record: IdempotencyRecord):
        self.record = record
        when = timezone.localtime(record.created_at)
        super().__init__(
            f"The {KEY_HEADER} “{record.key}” was already used on {when:%d %B %Y at %H:%M} for a different request "
            f"({record.method} {record.path}). A retry must send exactly the same request; send a new key for a "
            "new request."
        )


def _replay(record: IdempotencyRecord, fingerprint: str) -> Response:
    if record.fingerprint != fingerprint:
        raise KeyReused(record)
    return Response(record.response_body, status=record.response_status, headers={"Idempotent-Replayed": "true"})


def _remember(record: IdempotencyRecord, status: int, body) -> dict:
    body = json.loads(JSONRenderer().render(body))
    IdempotencyRecord.objects.filter(pk=record.pk).update(response_status=status, response_body=body)
    return body


def run_once(request, action: Callable[[], tuple[int, dict]]) -> Response:
    """Run a write and answer it; with an Idempotency-Key, a retry gets the first answer instead of a second write.

    `action` does the whole write (checks included) and returns (status, body). It runs in one transaction
    with the record of its answer, and any file it stored is deleted if that transaction does not commit:
    nothing is ever half written. Refusals are not remembered, so a fixed request may reuse its key."""
    key = idempotency_key(request)
    if key is None:
        with files_removed_on_error(), transaction.atomic():
            status, body = action()
        return Response(body, status=status)

    fingerprint = request_fingerprint(request)
    user = request.user
    try:
        with files_removed_on_error(), transaction.atomic():
            record = IdempotencyRecord.objects.select_for_update().filter(user=user, key=key).first()
            if record is not None:
                return _replay(record, fingerprint)
            # Claim the key before acting: a concurrent twin blocks on this row and then replays our answer.
            record = IdempotencyRecord.objects.create(
                user=user,
                key=key,
                fingerprint=fingerprint,
                method=request.method,
                path=request.path[:300],
                response_status=0,
                response_body={},
            )
            status, body = action()
            body = _remember(record, status, body)
    except IntegrityError:
        # A concurrent request with the same key committed first: this one was rolled back; answer as it did.
        record = IdempotencyRecord.objects.filter(user=user, key=key).first()
        if record is None:
            raise
        return _replay(record, fingerprint)
    return Response(body, status=status)
