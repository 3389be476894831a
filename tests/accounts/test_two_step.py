"""Two-step sign-in: setting it up (scan or type the key, confirm a code, recovery codes shown once), the second step
after the password, recovery codes, the roles that must use it (MFA_REQUIRED_ROLES), and an administrator's reset."""

import re

import pytest
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from isms.accounts import services
from isms.foundation.roles import Role
from tests.factories import UserFactory

PASSWORD = "correct horse battery staple"


def code_of(device: TOTPDevice) -> str:
    """What the person's authenticator app shows now."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


def sign_in(client, username: str):
    return client.post(reverse("login"), {"username": username, "password": PASSWORD})


def enrol(user) -> tuple[TOTPDevice, list[str]]:
    device = services.mfa_device_pending(user=user)
    codes = services.mfa_enrol_confirm(user=user, device=device, code=code_of(device))
    return device, codes


@pytest.fixture
def alice(db):
    return UserFactory(username="alice", role=Role.OWNER)


def test_setting_it_up_shows_a_qr_code_and_the_key_then_the_recovery_codes_once(client, alice, clock):
    sign_in(client, "alice")
    page = client.get(reverse("mfa_enrol"))
    html = page.content.decode()
    assert page.status_code == 200
    assert 'src="data:image/svg+xml' in html  # the QR code drawn in the page, nothing fetched
    device = TOTPDevice.objects.get(user=alice, confirmed=False)
    typed_key = re.search(r'id="mfa-secret">([A-Z2-7 ]+)<', html).group(1)
    import base64

    assert base64.b32decode(typed_key.replace(" ", "") + "=" * (-len(typed_key.replace(" ", "")) % 8)) == device.bin_key
    assert client.get(reverse("mfa_enrol")).content.decode().count(typed_key) == 1  # the same key on a reload

    wrong = client.post(reverse("mfa_enrol"), {"code": "000000" if code_of(device) != "000000" else "111111"})
    assert "That code does not match" in wrong.content.decode()
    assert not TOTPDevice.objects.filter(user=alice, confirmed=True).exists()

    done = client.post(reverse("mfa_enrol"), {"code": code_of(device)})
    codes = re.findall(r'<li class="col">(\w+)</li>', done.content.decode())
    assert len(codes) == 10
    assert "only time they are shown" in done.content.decode()
    assert TOTPDevice.objects.get(user=alice).confirmed
    page = client.get(reverse("mfa_settings")).content.decode()
    assert "Recovery codes left: <strong>10</strong>" in page
    assert not any(code in page for code in codes)  # never shown again


def test_an_enrolled_person_is_asked_for_a_code_after_the_password(client, alice, clock):
    device, _ = enrol(alice)
    clock.advance(seconds=60)
    response = sign_in(client, "alice")
    assert response.status_code == 302
    dashboard = client.get(reverse("dashboard"))
    assert dashboard.status_code == 302 and dashboard["Location"].startswith(reverse("mfa_verify"))
    assert client.get(reverse("controls:index")).status_code == 302  # nothing else either
    page = client.get(dashboard["Location"]).content.decode()
    assert "Sign-in code" in page and 'id="nav-main"' not in page  # no navigation until signed in

    wrong = client.post(reverse("mfa_verify"), {"code": "12345"})
    assert "That code did not work" in wrong.content.decode()
    assert client.get(reverse("dashboard")).status_code == 302

    clock.advance(seconds=2)  # a failed code makes the next try wait (1 s, doubling with each failure)
    ok = client.post(reverse("mfa_verify"), {"code": code_of(device), "next": reverse("controls:index")})
    assert ok.status_code == 302 and ok["Location"] == reverse("controls:index")
    assert client.get(reverse("dashboard")).status_code == 200


def test_the_next_address_is_kept_to_this_site(client, alice, clock):
    device, _ = enrol(alice)
    clock.advance(seconds=60)
    sign_in(client, "alice")
    response = client.post(reverse("mfa_verify"), {"code": code_of(device), "next": "https://evil.example/"})
    assert response["Location"] == reverse("dashboard")


def test_a_recovery_code_works_once_and_says_how_many_are_left(client, alice, clock):
    _, codes = enrol(alice)
    sign_in(client, "alice")
    response = client.post(reverse("mfa_verify"), {"code": codes[0]}, follow=True)
    assert "recovery code" in response.content.decode() and "9 left" in response.content.decode()
    client.post(reverse("logout"))

    sign_in(client, "alice")
    again = client.post(reverse("mfa_verify"), {"code": codes[0]})
    assert "That code did not work" in again.content.decode()
    clock.advance(seconds=2)  # past the pause a failed code imposes
    assert client.post(reverse("mfa_verify"), {"code": codes[1]}).status_code == 302


def test_new_recovery_codes_replace_the_old_ones(client, alice, clock):
    _, old = enrol(alice)
    client.force_login(alice)
    client.post(reverse("mfa_verify"), {"code": old[0]})
    page = client.post(reverse("mfa_recovery_codes")).content.decode()
    new = re.findall(r'<li class="col">(\w+)</li>', page)
    assert len(new) == 10 and not set(new) & set(old)
    client.post(reverse("logout"))
    sign_in(client, "alice")
    assert "did not work" in client.post(reverse("mfa_verify"), {"code": old[1]}).content.decode()
    clock.advance(seconds=2)
    assert client.post(reverse("mfa_verify"), {"code": new[0]}).status_code == 302


@pytest.mark.parametrize("role", [Role.ADMIN, Role.COMPLIANCE, Role.AUDITOR])
def test_a_role_that_requires_it_is_sent_to_set_it_up_before_anything_else(client, db, clock, settings, role):
    settings.MFA_REQUIRED_ROLES = ["admin", "compliance", "auditor"]
    UserFactory(username="bob", role=role)
    sign_in(client, "bob")
    response = client.get(reverse("dashboard"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("mfa_enrol"))
    page = client.get(response["Location"]).content.decode()
    assert "Your role requires two-step sign-in" in page
    assert client.post(reverse("mfa_turn_off")).status_code == 302  # no way round it
    assert client.get(reverse("dashboard"))["Location"].startswith(reverse("mfa_enrol"))


def test_other_roles_may_sign_in_with_the_password_alone_and_may_turn_it_off(client, alice, clock, settings):
    settings.MFA_REQUIRED_ROLES = ["admin", "compliance", "auditor"]
    sign_in(client, "alice")
    assert client.get(reverse("dashboard")).status_code == 200
    device, _ = enrol(alice)
    client.post(reverse("logout"))
    clock.advance(seconds=60)
    sign_in(client, "alice")
    client.post(reverse("mfa_verify"), {"code": code_of(device)})
    response = client.post(reverse("mfa_turn_off"), follow=True)
    assert "Two-step sign-in is off" in response.content.decode()
    client.post(reverse("logout"))
    sign_in(client, "alice")
    assert client.get(reverse("dashboard")).status_code == 200


def test_a_required_role_cannot_turn_it_off(client, db, clock, settings):
    settings.MFA_REQUIRED_ROLES = ["compliance"]
    bob = UserFactory(username="bob", role=Role.COMPLIANCE)
    device, _ = enrol(bob)
    clock.advance(seconds=60)
    sign_in(client, "bob")
    client.post(reverse("mfa_verify"), {"code": code_of(device)})
    response = client.post(reverse("mfa_turn_off"), follow=True)
    assert "cannot be turned off" in response.content.decode()
    assert TOTPDevice.objects.filter(user=bob, confirmed=True).exists()


def test_an_administrator_resets_a_lost_phone(client, alice, admin_user, clock, settings):
    settings.MFA_REQUIRED_ROLES = ["owner"]
    enrol(alice)
    client.force_login(admin_user)
    response = client.post(reverse("accounts:person_mfa_reset", args=[alice.pk]), follow=True)
    assert "their next sign-in asks them to set it up again" in response.content.decode()
    assert not TOTPDevice.objects.filter(user=alice).exists()
    client.post(reverse("logout"))
    sign_in(client, "alice")
    assert client.get(reverse("dashboard"))["Location"].startswith(reverse("mfa_enrol"))


def test_the_required_roles_setting_defaults_to_the_three_in_production_and_nobody_in_the_demo():
    import subprocess
    import sys

    code = "from django.conf import settings; import django; django.setup(); print(settings.MFA_REQUIRED_ROLES)"
    env_prod = {"DJANGO_SETTINGS_MODULE": "isms.settings", "SECRET_KEY": "x" * 60, "PATH": "/usr/bin:/bin"}
    prod = subprocess.run([sys.executable, "-c", code], env=env_prod, capture_output=True, text=True, check=True)
    assert prod.stdout.strip() == "['admin', 'compliance', 'auditor']"
    import tempfile

    env_dev = {**env_prod, "DEBUG": "1", "ISMS_DATA_DIR": tempfile.mkdtemp()}
    dev = subprocess.run([sys.executable, "-c", code], env=env_dev, capture_output=True, text=True, check=True)
    assert dev.stdout.strip() == "[]"
    bad = subprocess.run(
        [sys.executable, "-c", code],
        env={**env_prod, "MFA_REQUIRED_ROLES": "admin,boss"},
        capture_output=True,
        text=True,
    )
    assert bad.returncode != 0 and "MFA_REQUIRED_ROLES names boss" in bad.stderr


def test_make_run_says_whether_the_demo_logins_need_a_code(settings):
    from isms.web.management.commands.runstack import _two_step_line

    settings.MFA_REQUIRED_ROLES = []
    assert "the demo logins work with the password alone" in _two_step_line()
    settings.MFA_REQUIRED_ROLES = ["admin", "auditor"]
    assert "required for: admin, auditor" in _two_step_line()


def test_an_htmx_request_part_way_through_sign_in_sends_the_whole_page_to_the_second_step(client, alice, clock):
    enrol(alice)
    sign_in(client, "alice")
    response = client.get(reverse("controls:index"), headers={"HX-Request": "true"})
    assert response.status_code == 204 and response["HX-Redirect"] == reverse("mfa_verify")
