"""Sign-in fit for outsiders and admins, in a real browser: an administrator with two-step sign-in signs in with a
code, invites an auditor from the People page; the auditor chooses a password from the emailed link, is made to set
up two-step sign-in (scanning is replaced by reading the key off the page), keeps the recovery codes and lands in.
Each page is looked at 1280 and 390 pixels wide (screenshots) and checked by axe-core."""

import base64
import re

import pytest
from django.core import mail
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from isms.accounts import services
from isms.foundation.roles import Role
from isms.notices import engine
from isms.notices.models import Notice
from tests.factories import DepartmentFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
NEW_PASSWORD = "a long and private passphrase 2026"


def _code(key: bytes) -> str:
    return f"{TOTP(key).token():06d}"


def _both_widths(page, screenshot, name: str) -> None:
    screenshot(f"{name}-1280")
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot(f"{name}-390")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, f"{name} scrolls sideways on a phone"
    page.set_viewport_size({"width": 1280, "height": 900})


def test_admin_invites_an_auditor_who_sets_up_two_step_sign_in(live_server, page, screenshot, sign_in, settings):
    settings.MFA_REQUIRED_ROLES = ["admin", "compliance", "auditor"]
    DepartmentFactory(name="IT")
    admin = UserFactory(username="root", first_name="Ada", role=Role.ADMIN)
    device = services.mfa_device_pending(user=admin)
    services.mfa_enrol_confirm(user=admin, device=device, code=_code(device.bin_key))
    TOTPDevice.objects.filter(pk=device.pk).update(last_t=-1)  # the set-up code may be typed again at sign-in

    page.goto(f"{live_server.url}/accounts/people/")
    sign_in("root", lands_on="/accounts/two-step/code/?next=%2Faccounts%2Fpeople%2F")
    _both_widths(page, screenshot, "signin-code")
    page.get_by_label("Code").fill(_code(device.bin_key))
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(f"{live_server.url}/accounts/people/")
    _both_widths(page, screenshot, "signin-people")

    page.get_by_role("link", name="Invite a person").click()
    page.get_by_label("First name").fill("Nia")
    page.get_by_label("Last name").fill("Okafor")
    page.get_by_label("Email address").fill("nia@audit.example")
    page.get_by_label("Role").select_option("auditor")
    page.get_by_role("button", name="Send invitation").click()
    assert page.get_by_text("Invitation sent to nia@audit.example").is_visible()
    _both_widths(page, screenshot, "signin-person")
    page.goto(f"{live_server.url}/accounts/people/departments/")
    _both_widths(page, screenshot, "signin-departments")

    for notice in Notice.objects.filter(kind="accounts.invitation"):
        engine.deliver(notice.pk)
    link = re.search(r"http://\S+/accounts/invitation/\?token=\S+", mail.outbox[-1].body).group(0)
    page.context.clear_cookies()
    page.goto(link.replace("http://testserver", live_server.url).replace(settings.SITE_URL, live_server.url))
    _both_widths(page, screenshot, "signin-invitation")
    page.locator("#id_password1").fill(NEW_PASSWORD)
    page.get_by_label("Password again").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Set my password").click()
    assert page.get_by_text("Your password is set. Sign in as nia.").is_visible()
    page.get_by_label("Password").fill(NEW_PASSWORD)  # the username is filled in from the invitation
    page.get_by_role("button", name="Sign in").click()

    page.wait_for_url(re.compile(r".*/accounts/two-step/set-up/.*"))
    assert page.get_by_text("Your role requires two-step sign-in").is_visible()
    _both_widths(page, screenshot, "signin-enrol")
    key = page.locator("#mfa-secret").inner_text().replace(" ", "")
    page.get_by_label("Code from the app").fill(_code(base64.b32decode(key + "=" * (-len(key) % 8))))
    page.get_by_role("button", name="Turn on two-step sign-in").click()
    assert page.get_by_text("This is the only time they are shown").is_visible()
    assert page.locator("#recovery-codes li").count() == 10
    _both_widths(page, screenshot, "signin-recovery-codes")
    page.get_by_role("link", name="I have kept them, go on").click()
    page.wait_for_url(re.compile(r".*/portal/.*|.*/$"))
    assert "Sign in" not in page.title()
