"""Every URL × every role: allowed roles get the page, others 403, anonymous visitors the login page."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from evidence.services import evidence_add_file
from isms.accounts.roles import Role
from tests.factories import make_certificate, make_control, make_requirement, make_schedule
from tests.permission_matrix import MATRIX, PUBLIC

# Django admin's own model pages are guarded by the admin site as a whole (tested via admin:index).
SKIP_NAMESPACES = {"admin"}


def _url_names(patterns, prefix=""):
    for p in patterns:
        if isinstance(p, URLResolver):
            ns = f"{prefix}{p.namespace}:" if p.namespace else prefix
            yield from _url_names(p.url_patterns, ns)
        elif isinstance(p, URLPattern) and p.name:
            yield f"{prefix}{p.name}"


def test_every_url_is_in_the_matrix():
    served = {n for n in _url_names(get_resolver().url_patterns) if n.split(":")[0] not in SKIP_NAMESPACES}
    in_matrix = {e.name for e in MATRIX}
    missing = served - in_matrix
    assert not missing, f"URLs without a permission matrix entry: {sorted(missing)}"
    assert not in_matrix - served - {"admin:index"}, "matrix names URLs that no longer exist"


@pytest.fixture
def objects(users):
    certificate = make_certificate()
    requirement = make_requirement()
    control = make_control(owner=users["owner"], requirements=[requirement])
    schedule = make_schedule(owner=users["owner"])
    occurrence = schedule.occurrences.first()
    evidence = evidence_add_file(
        upload=SimpleUploadedFile("scan.txt", b"scan report"), by=users["owner"], source="web", occurrence=occurrence
    )
    return {
        "certificate": certificate,
        "cycle_audit": certificate.audits.first(),
        "schedule": schedule,
        "control": control,
        "requirement": requirement,
        "occurrence": occurrence,
        "evidence": evidence,
        **users,
    }


ROLES = [r.value for r in Role] + ["anonymous"]


@pytest.mark.parametrize("entry", MATRIX, ids=lambda e: e.name)
@pytest.mark.parametrize("role", ROLES)
def test_role_matrix(client, objects, entry, role):
    if role != "anonymous":
        client.force_login(objects[role])
    url = reverse(entry.name, kwargs=entry.kwargs(objects))
    response = getattr(client, entry.method)(url, entry.data(objects))

    if entry.allowed == PUBLIC:
        assert response.status_code in entry.public_ok, response.status_code
    elif role == "anonymous":
        assert response.status_code == 302
        # Django admin goes through /admin/login/, which forwards to our login page.
        assert response["Location"].startswith((reverse("login"), "/admin/login/"))
    elif role in entry.allowed:
        assert response.status_code in (200, 302), f"{role} should reach {url}, got {response.status_code}"
        if response.status_code == 302 and not entry.signs_out:
            assert not response["Location"].startswith(reverse("login")), f"{role} sent to login from {url}"
    elif entry.name.startswith("admin:"):
        # The admin site sends users it refuses to its login page, which is ours.
        assert response.status_code == 302 and "login" in response["Location"]
    else:
        assert response.status_code == 403, f"{role} must not reach {url}, got {response.status_code}"
        assert b"have access" in response.content
