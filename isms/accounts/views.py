"""Sign-in and its second step, setting up two-step sign-in, password change, the invitation page; and the
administrators' people and departments pages. Thin views: reach check → form → one service call → redirect or
render."""

from __future__ import annotations

import base64

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.db.models import Count, Exists, OuterRef
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp import match_token
from django_otp.plugins.otp_totp.models import TOTPDevice

from isms.foundation import reach
from isms.foundation.lists import ListPage
from isms.foundation.permissions import role_required
from isms.foundation.ratelimit import rate_limited
from isms.foundation.roles import ALL, Role

from . import mfa, services
from .filtersets import DepartmentFilterSet, PersonFilterSet
from .forms import CodeForm, DepartmentForm, EnrolForm, InviteForm, PersonForm, SetPasswordForm
from .invitations import InvitationRefused, invitation_user
from .models import Department, User
from .sso import sso_enabled
from .tables import DepartmentTable, PersonTable

ADMINS = frozenset({Role.ADMIN})


@method_decorator(login_not_required, name="dispatch")
@method_decorator(rate_limited("sign-in"), name="dispatch")  # posts per address (RATE_LIMIT_*)
class LoginView(auth_views.LoginView):
    template_name = "registration/login.html"
    redirect_authenticated_user = True

    def get_initial(self):
        return {"username": self.request.GET.get("username", "")[:150]}  # from the invitation page

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["sso_name"] = settings.OIDC_PROVIDER_NAME if sso_enabled() else None
        return context


class LogoutView(auth_views.LogoutView):
    def post(self, request, *args, **kwargs):
        response = super().post(request, *args, **kwargs)
        messages.info(request, "You have signed out.")
        return response


@method_decorator(role_required(ALL), name="dispatch")
class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "registration/password_change.html"

    def form_valid(self, form):
        messages.success(self.request, "Your password was changed.")
        return super().form_valid(form)

    def get_success_url(self):
        return "/"


# ------------------------------------------------------------------------------------------------ two-step sign-in


def _next(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return reverse(settings.LOGIN_REDIRECT_URL)


@role_required(ALL)
@rate_limited("sign-in")  # posts per address, as the password page
def mfa_verify(request):
    """The second step: a code from the authenticator app or a recovery code."""
    if mfa.pending_step(request) != "verify":
        return redirect(_next(request))
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = match_token(request.user, form.cleaned_data["code"].replace(" ", "").strip())
        if device is not None:
            otp_login(request, device)
            if not isinstance(device, TOTPDevice):
                left = services.mfa_recovery_codes_left(request.user)
                messages.warning(
                    request,
                    f"You signed in with a recovery code; it will not work again. {left} left. "
                    "Make new ones under Two-step sign-in in your account menu.",
                )
            return redirect(_next(request))
        form.add_error(
            "code",
            "That code did not work. Type the code the app shows now (it changes every 30 seconds), or a recovery "
            "code you have not used. After several tries, wait a little before the next.",
        )
    return render(request, "registration/mfa_verify.html", {"form": form, "next": _next(request)})


def _qr_data_uri(device: TOTPDevice) -> str:
    return segno.make(device.config_url, error="m").svg_data_uri(scale=5, border=2)


def _secret(device: TOTPDevice) -> str:
    key = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(key[i : i + 4] for i in range(0, len(key), 4))


@never_cache  # the key and the recovery codes stay out of any cache
@role_required(ALL)
def mfa_enrol(request):
    """Set up an authenticator app: scan or type the secret, confirm with a code, then see the recovery codes once."""
    user = request.user
    if mfa.is_enrolled(user) and not user.is_verified():
        return redirect(f"{reverse('mfa_verify')}?next={reverse('mfa_enrol')}")  # prove the old one first
    device = services.mfa_device_pending(user=user)
    form = EnrolForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            codes = services.mfa_enrol_confirm(user=user, device=device, code=form.cleaned_data["code"])
        except ValidationError as error:
            _errors_to(form, error)
        else:
            otp_login(request, device)
            messages.success(request, "Two-step sign-in is on. Each sign-in now asks for a code from the app.")
            return render(request, "registration/mfa_codes.html", {"codes": codes, "next": _next(request)})
    return render(
        request,
        "registration/mfa_enrol.html",
        {
            "form": form,
            "qr": _qr_data_uri(device),
            "secret": _secret(device),
            "required": mfa.required_for(user),
            "next": _next(request),
            "replacing": mfa.is_enrolled(user),
        },
    )


@role_required(ALL)
def mfa_settings(request):
    """The person's own two-step sign-in: on or off, recovery codes left; set up, new codes, turn off."""
    user = request.user
    return render(
        request,
        "registration/mfa_settings.html",
        {
            "enrolled": mfa.is_enrolled(user),
            "required": mfa.required_for(user),
            "codes_left": services.mfa_recovery_codes_left(user),
        },
    )


@never_cache
@require_POST
@role_required(ALL)
def mfa_recovery_codes(request):
    try:
        codes = services.mfa_recovery_codes_make(user=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("mfa_settings")
    return render(request, "registration/mfa_codes.html", {"codes": codes, "next": reverse("mfa_settings")})


@require_POST
@role_required(ALL)
def mfa_turn_off(request):
    if mfa.required_for(request.user):
        messages.error(
            request,
            "Your role requires two-step sign-in, so it cannot be turned off. To use another phone, set it up again.",
        )
    else:
        services.mfa_reset(user=request.user, by=request.user)
        messages.success(request, "Two-step sign-in is off. Sign-ins now ask for your password only.")
    return redirect("mfa_settings")


# ------------------------------------------------------------------------------------------------ invitation


@never_cache
@login_not_required
@rate_limited("sign-in")
def invitation(request):
    """The emailed invitation: choose a password, then sign in. An expired or used link says so."""
    token = request.POST.get("token") or request.GET.get("token") or ""
    try:
        person = invitation_user(token)
    except InvitationRefused as refused:
        return render(request, "registration/invitation.html", {"refused": str(refused)}, status=410)
    form = SetPasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.invitation_accept(token=token, password=form.cleaned_data["password1"])
        except InvitationRefused as refused:
            return render(request, "registration/invitation.html", {"refused": str(refused)}, status=410)
        except ValidationError as error:
            form.add_error("password1", error)
        else:
            messages.success(request, f"Your password is set. Sign in as {person.username}.")
            return redirect(f"{reverse('login')}?username={person.username}")
    return render(request, "registration/invitation.html", {"form": form, "person": person, "token": token})


# ------------------------------------------------------------------------------------------------ people


PEOPLE = ListPage(
    title="People",
    filterset=PersonFilterSet,
    table=PersonTable,
    empty_text="Nobody here yet. Invite someone with “Invite a person”: they get an email to choose their password.",
    template_name="accounts/people.html",
)
DEPARTMENTS = ListPage(
    title="Departments",
    filterset=DepartmentFilterSet,
    table=DepartmentTable,
    empty_text="No departments yet. Add one with “New department”; people, controls and schedules can then be "
    "filed under it.",
    template_name="accounts/departments.html",
)


def _errors_to(form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


@role_required(ADMINS)
def people(request):
    queryset = (
        reach.visible(request.user, User)
        .select_related("department")
        .annotate(mfa_on=Exists(TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)))
        .order_by("first_name", "last_name", "username")
    )
    return PEOPLE.render(request, queryset)


@role_required(ADMINS)
def person_invite(request):
    form = InviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            person = services.user_invite(by=request.user, **form.cleaned_data)
        except ValidationError as error:
            _errors_to(form, error)
        else:
            messages.success(
                request,
                f"Invitation sent to {person.email}. The link works for {settings.INVITATION_DAYS} days; "
                f"they sign in as {person.username}.",
            )
            return redirect("accounts:person", pk=person.pk)
    return render(
        request,
        "accounts/form.html",
        {
            "form": form,
            "title": "Invite a person",
            "intro": "They get an email with a link to choose their password. Until then they cannot sign in.",
            "submit_label": "Send invitation",
            "cancel_url": reverse("accounts:people"),
        },
    )


@role_required(ADMINS)
def person(request, pk: int):
    person = reach.get_or_404(request, User.objects.select_related("department"), "manage", pk=pk)
    form = PersonForm.for_user(person, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.user_update(user=person, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            _errors_to(form, error)
        else:
            messages.success(request, f"{person} was saved.")
            return redirect("accounts:person", pk=person.pk)
    return render(
        request,
        "accounts/person.html",
        {
            "person": person,
            "form": form,
            "mfa_on": mfa.is_enrolled(person),
            "mfa_required": mfa.required_for(person),
            "invited": not person.has_usable_password() and person.last_login is None,
            "is_self": person.pk == request.user.pk,
        },
    )


def _person_action(request, pk: int, action, done: str):
    person = reach.get_or_404(request, User, "manage", pk=pk)
    try:
        action(person)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, done.format(person=person))
    return redirect("accounts:person", pk=person.pk)


@require_POST
@role_required(ADMINS)
def person_deactivate(request, pk: int):
    return _person_action(
        request,
        pk,
        lambda p: services.user_set_active(user=p, by=request.user, active=False),
        "{person} is deactivated and signed out. Their open tasks show “Needs a new owner”.",
    )


@require_POST
@role_required(ADMINS)
def person_reactivate(request, pk: int):
    return _person_action(
        request,
        pk,
        lambda p: services.user_set_active(user=p, by=request.user, active=True),
        "{person} can sign in again.",
    )


@require_POST
@role_required(ADMINS)
def person_mfa_reset(request, pk: int):
    return _person_action(
        request,
        pk,
        lambda p: services.mfa_reset(user=p, by=request.user),
        "Two-step sign-in of {person} is reset: their next sign-in asks them to set it up again.",
    )


@require_POST
@role_required(ADMINS)
def person_invitation_resend(request, pk: int):
    return _person_action(
        request,
        pk,
        lambda p: services.user_invitation_resend(user=p, by=request.user),
        "A new invitation was sent to {person}; the earlier link no longer works.",
    )


# ------------------------------------------------------------------------------------------------ departments


@role_required(ADMINS)
def departments(request):
    queryset = reach.visible(request.user, Department).annotate(people=Count("members")).order_by("name")
    return DEPARTMENTS.render(request, queryset)


@role_required(ADMINS)
def department_new(request):
    reach.check(request.user, "create", Department)
    form = DepartmentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            department = services.department_save(name=form.cleaned_data["name"], by=request.user)
        except ValidationError as error:
            _errors_to(form, error)
        else:
            messages.success(request, f"Department {department} added.")
            return redirect("accounts:departments")
    return render(
        request,
        "accounts/form.html",
        {"form": form, "title": "New department", "cancel_url": reverse("accounts:departments")},
    )


@role_required(ADMINS)
def department(request, pk: int):
    department = reach.get_or_404(request, Department, "manage", pk=pk)
    form = DepartmentForm(request.POST or None, initial={"name": department.name})
    if request.method == "POST" and form.is_valid():
        try:
            services.department_save(name=form.cleaned_data["name"], by=request.user, department=department)
        except ValidationError as error:
            _errors_to(form, error)
        else:
            messages.success(request, f"Department renamed to {department}.")
            return redirect("accounts:departments")
    members = department.members.order_by("first_name", "last_name", "username")
    return render(request, "accounts/department.html", {"department": department, "form": form, "members": members})


@require_POST
@role_required(ADMINS)
def department_delete(request, pk: int):
    department = reach.get_or_404(request, Department, "manage", pk=pk)
    try:
        services.department_delete(department=department, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("accounts:department", pk=department.pk)
    messages.success(request, f"Department {department} deleted.")
    return redirect("accounts:departments")
