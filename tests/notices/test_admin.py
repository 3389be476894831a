"""The administrator's list of notices shows which were handed to the mail server without a recorded answer."""

import pytest

from isms.notices import engine
from tests.notices.conftest import WorkerKilled

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/notices/notice/"


def test_the_notice_list_shows_and_filters_notices_in_doubt(
    make_notice, admin_user, client_as, clock, killed_after_acceptance
):
    in_doubt, sent = make_notice("Restore test"), make_notice("Access review")
    assert engine.deliver(sent.pk) == "sent"
    with killed_after_acceptance, pytest.raises(WorkerKilled):
        engine.deliver(in_doubt.pk)

    page = client_as(admin_user).get(CHANGELIST).content.decode()
    assert "In doubt: handed to the mail server, no answer recorded" in page
    assert "Sent" in page

    page = client_as(admin_user).get(CHANGELIST, {"delivery": "in_doubt"}).content.decode()
    assert in_doubt.key in page and sent.key not in page
    assert "In doubt (1)" in client_as(admin_user).get(CHANGELIST).content.decode()
