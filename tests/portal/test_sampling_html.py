"""The sampling pages are valid HTML (the Nu HTML Checker), as the auditor and as the team's preview, with a
sample holding drawn and hand-added records and with form errors shown."""

import pytest
from django.urls import reverse

from portal import sampling
from tests import htmlcheck
from tests.conftest import skip_or_fail
from tests.portal.test_sampling import _draw, _in_period, world  # noqa: F401

pytestmark = pytest.mark.django_db


def test_the_sampling_pages_are_valid_html(world, client, compliance, engaged_auditor):  # noqa: F811
    if not htmlcheck.VNU_JAR.exists() or not htmlcheck.java():
        skip_or_fail("the HTML checker (vnu.jar and Java 17) is not installed: run `make test` once")
    sample = _draw(world, compliance, seed=5)
    extra = _in_period(world).exclude(pk__in=sampling.drawn_ids(sample)).first()
    sampling.sample_item_add(by=compliance, sample=sample, item=extra, reason="Holiday week")
    e = world["engagement"].pk
    pages = []
    for user in (engaged_auditor, compliance):
        client.force_login(user)
        for method, url, data in (
            ("get", reverse("portal:samples", kwargs={"engagement": e}), {}),
            ("post", reverse("portal:samples", kwargs={"engagement": e}), {"population": "everything"}),
            ("get", reverse("portal:sample", kwargs={"engagement": e, "pk": sample.pk}), {}),
            ("get", reverse("portal:sample", kwargs={"engagement": e, "pk": sample.pk}), {"q": "Mar 2026"}),
            ("post", reverse("portal:sample", kwargs={"engagement": e, "pk": sample.pk}), {"item": extra.pk}),
        ):
            response = getattr(client, method)(url, data)
            assert response.status_code == 200
            pages.append(htmlcheck.Page(f"{user.username} {method} {url}", url, response.content))
    errors = htmlcheck.validate(pages)
    assert not errors, "\n".join(errors)
