"""Writes to people's accounts and departments that carry a rule or a record: inviting, deactivating, changing a
role, two-step sign-in, departments. Each validates before writing and refuses with a ValidationError whose words
say what to do."""

from __future__ import annotations

import datetime
import logging

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from isms.foundation.roles import Role

from . import hooks
from .invitations import invitation_user
from .models import Department, User

log = logging.getLogger(__name__)

RECOVERY_CODES = 10


def user_digests_set(*, user: User, receive: bool) -> bool:
    """Turn the person's weekly digest on or off. Returns whether anything changed."""
    if user.receives_digests == receive:
        return False
    User.objects.filter(pk=user.pk).update(receives_digests=receive)
    user.receives_digests = receive
    log.info("Weekly digest turned %s for user %s", "on" if receive else "off", user.pk)
    return True


# ------------------------------------------------------------------------------------------------ people


def _email_free(email: str, *, exclude: User | None = None) -> None:
    others = User.objects.filter(email__iexact=email)
    if exclude is not None:
        others = others.exclude(pk=exclude.pk)
    if others.exists():
        raise ValidationError({"email": "Someone already has this email address. Open their account instead."})


def _username_for(email: str) -> str:
    """A free username from the email address (people sign in with it; they can be told it in the invitation)."""
    base = email.split("@", 1)[0].lower()[:140] or "user"
    name, n = base, 1
    while User.objects.filter(username__iexact=name).exists():
        n += 1
        name = f"{base}{n}"
    return name


@transaction.atomic
def user_invite(
    *,
    email: str,
    first_name: str,
    last_name: str,
    role: str,
    department: Department | None,
    by: User,
) -> User:
    """Make an account for a new person and email them a link to choose their password (INVITATION_DAYS)."""
    email = email.strip()
    if role not in Role.values:
        raise ValidationError({"role": "Choose one of the roles."})
    _email_free(email)
    user = User(
        username=_username_for(email),
        email=email,
        first_name=first_name.strip(),
        last_name=last_name.strip(),
        role=role,
        department=department,
    )
    user.set_unusable_password()
    user.full_clean(exclude=["password"])
    user.save()
    _invitation_send(user, by)
    log.info("User %s invited by %s", user.pk, by.pk)
    return user


def _invitation_send(user: User, by: User) -> datetime.datetime:
    expires = timezone.now() + datetime.timedelta(days=settings.INVITATION_DAYS)
    hooks.send_invitation(user, expires, by)
    return expires


@transaction.atomic
def user_invitation_resend(*, user: User, by: User) -> datetime.datetime:
    """A new invitation for someone who has not chosen a password yet; the earlier link stops working."""
    if user.has_usable_password():
        raise ValidationError("This person has already chosen a password: they sign in as usual.")
    if not user.is_active:
        raise ValidationError("This account is deactivated. Reactivate it first.")
    user.set_unusable_password()  # a new random marker: links made before no longer match
    user.save(update_fields=["password"])
    return _invitation_send(user, by)


@transaction.atomic
def invitation_accept(*, token: str, password: str) -> User:
    """Set the invited person's password from their link (checked again here: it may have been used meanwhile)."""
    user = invitation_user(token)
    user = User.objects.select_for_update().get(pk=user.pk)
    invitation_user(token)  # under the row lock: two tabs cannot both use one link
    validate_password(password, user)
    user.set_password(password)
    user.save(update_fields=["password"])
    log.info("User %s accepted their invitation", user.pk)
    return user


def _keeps_an_admin(user: User, *, role: str | None = None, active: bool | None = None) -> None:
    """Refuse a change that would leave no active administrator to manage people."""
    becomes_admin = (role or user.role) == Role.ADMIN and (user.is_active if active is None else active)
    last_admin = not User.objects.filter(role=Role.ADMIN, is_active=True).exclude(pk=user.pk).exists()
    if user.role == Role.ADMIN and user.is_active and not becomes_admin and last_admin:
        raise ValidationError("This is the last active administrator. Make someone else an administrator first.")


@transaction.atomic
def user_update(*, user: User, by: User, role: str, department: Department | None, first_name: str, last_name: str,
                email: str) -> User:  # fmt: skip
    """Change a person's name, email address, role or department. A changed role ends their sessions
    (isms/foundation/sessions.py) so they sign in again with what the new role reaches."""
    if role not in Role.values:
        raise ValidationError({"role": "Choose one of the roles."})
    if user.pk == by.pk and role != user.role:
        raise ValidationError({"role": "You cannot change your own role. Ask another administrator."})
    _keeps_an_admin(user, role=role)
    email = email.strip()
    if email:
        _email_free(email, exclude=user)
    changed_role = role != user.role
    user.role, user.department = role, department
    user.first_name, user.last_name, user.email = first_name.strip(), last_name.strip(), email
    user.full_clean(exclude=["password"])
    user.save()
    if changed_role:
        log.info("User %s given role %s by %s", user.pk, role, by.pk)
    return user


@transaction.atomic
def user_set_active(*, user: User, by: User, active: bool) -> bool:
    """Deactivate a person (they are signed out at once and reach nothing; their work shows "Needs a new owner") or
    reactivate them. Returns whether anything changed."""
    if user.pk == by.pk and not active:
        raise ValidationError("You cannot deactivate your own account.")
    _keeps_an_admin(user, active=active)
    if user.is_active == active:
        return False
    user.is_active = active
    user.save(update_fields=["is_active"])
    log.info("User %s %s by %s", user.pk, "reactivated" if active else "deactivated", by.pk)
    return True


# ------------------------------------------------------------------------------------------------ two-step


def mfa_device_pending(*, user: User) -> TOTPDevice:
    """The authenticator being set up (unconfirmed): the same one on every view of the set-up page until confirmed."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)
    return device


@transaction.atomic
def mfa_enrol_confirm(*, user: User, device: TOTPDevice, code: str) -> list[str]:
    """Confirm the authenticator with a code from it; it replaces any earlier one. Returns the new recovery codes
    (shown once)."""
    if device.user_id != user.pk or device.confirmed:
        raise ValidationError("Start setting up again: this set-up is no longer open.")
    if not device.verify_token((code or "").replace(" ", "")):
        raise ValidationError(
            {"code": "That code does not match. Check the app shows this account, and type the code it shows now."}
        )
    TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    log.info("User %s set up two-step sign-in", user.pk)
    return mfa_recovery_codes_make(user=user)


@transaction.atomic
def mfa_recovery_codes_make(*, user: User) -> list[str]:
    """New recovery codes for a person with an authenticator; earlier ones stop working. Each works once."""
    if not TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        raise ValidationError("Set up an authenticator app first.")
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name="Recovery codes", confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    return codes


def mfa_recovery_codes_left(user: User) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


@transaction.atomic
def mfa_reset(*, user: User, by: User) -> bool:
    """Remove a person's authenticator and recovery codes (a lost phone). Their next sign-in asks them to set it up
    again if their role requires it; a session verified with the old one is asked again. Returns whether there was
    anything to remove."""
    removed = TOTPDevice.objects.filter(user=user).delete()[0] + StaticDevice.objects.filter(user=user).delete()[0]
    log.info("Two-step sign-in of user %s reset by %s", user.pk, by.pk)
    return bool(removed)


# ------------------------------------------------------------------------------------------------ departments


def department_save(*, name: str, by: User, department: Department | None = None) -> Department:
    """Add a department or rename one; names are unique whatever their case."""
    name = " ".join((name or "").split())
    if not name:
        raise ValidationError({"name": "Give the department a name."})
    clash = Department.objects.filter(name__iexact=name)
    if department is not None:
        clash = clash.exclude(pk=department.pk)
    if clash.exists():
        raise ValidationError({"name": "There is already a department with this name."})
    department = department or Department()
    department.name = name
    department.full_clean()
    department.save()
    return department


def department_in_use(department: Department) -> list[str]:
    """What still belongs to the department, as "3 controls", "1 person"… (any app's records that point at it)."""
    found = []
    for rel in department._meta.related_objects:
        if not (rel.one_to_many or rel.one_to_one):
            continue
        count = rel.related_model._default_manager.filter(**{rel.field.name: department}).count()
        if count:
            meta = rel.related_model._meta
            if rel.related_model is User:
                noun = "person" if count == 1 else "people"
            else:
                noun = meta.verbose_name if count == 1 else meta.verbose_name_plural
            found.append(f"{count} {noun}")
    return found


@transaction.atomic
def department_delete(*, department: Department, by: User) -> None:
    """Remove a department nothing belongs to any more (people, controls, schedules, risks…): deleting one that
    still has them would leave them without a department unnoticed."""
    in_use = department_in_use(department)
    if in_use:
        raise ValidationError(
            f"{department} still has {', '.join(in_use)}. Move them to another department first, then delete it."
        )
    department.delete()
    log.info("Department %s deleted by %s", department.pk, by.pk)
