"""Rules that protect data hold whoever writes: a page, the API, the admin, a command or an import get the same
answer, because the service (or the model's clean) enforces them, not only the form."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from evidence.models import EvidenceItem
from evidence.services import evidence_add_link
from isms.organisation.services import cycle_audit_adjust
from tests.factories import make_certificate, make_control, make_schedule


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["javascript:alert(1)", "data:text/html,<b>x</b>", "ftp://files.example/x", ""])
def test_a_link_that_is_not_a_web_address_is_refused_by_the_service(owner, url):
    control = make_control(owner=owner)
    with pytest.raises(ValidationError, match="not a web address"):
        evidence_add_link(url=url, by=owner, source="web", control=control)
    assert not EvidenceItem.objects.exists()


@pytest.mark.django_db
def test_an_audit_date_outside_the_certificate_is_refused_by_the_service(compliance):
    certificate = make_certificate()
    audit = certificate.audits.first()
    with pytest.raises(ValidationError) as refused:
        cycle_audit_adjust(
            audit=audit, planned_date=certificate.expiry_date + datetime.timedelta(days=1), notes="", by=compliance
        )
    assert "must fall in year 1 of the certificate" in refused.value.message_dict["planned_date"][0]
    audit.refresh_from_db()
    assert audit.adjusted_at is None


@pytest.mark.django_db
def test_the_admin_shows_but_never_changes_what_has_rules(client_as, admin_user, owner):
    """Saving a certificate plans the cycle and saving a schedule makes its tasks: only the pages do that."""
    certificate = make_certificate()
    schedule = make_schedule(owner=owner)
    client = client_as(admin_user)
    for model, obj in [("organisation/certificate", certificate), ("maintenance/schedule", schedule)]:
        page = client.get(f"/admin/{model}/{obj.pk}/change/")
        assert page.status_code == 200
        assert b'name="_save"' not in page.content
        assert client.post(f"/admin/{model}/{obj.pk}/change/", {}).status_code == 403
        assert client.get(f"/admin/{model}/add/").status_code == 403
    assert client.get(reverse("admin:index")).status_code == 200
