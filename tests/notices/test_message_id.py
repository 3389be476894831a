"""Each notice's email carries one Message-ID of its own, the same on every attempt, so a repeat collapses."""

import pytest
from django.core import mail
from django.test import override_settings

from isms.notices import engine

pytestmark = pytest.mark.django_db


def message_id(message) -> str:
    return message.message()["Message-ID"]


def test_the_message_id_comes_from_the_notice_and_the_site(make_notice, clock):
    first, second = make_notice("Restore test"), make_notice("Access review")
    assert engine.deliver(first.pk) == "sent"
    assert engine.deliver(second.pk) == "sent"
    ids = [message_id(m) for m in mail.outbox]
    assert ids == [engine.notice_message_id(first), engine.notice_message_id(second)]
    assert ids[0] != ids[1]
    assert ids[0].startswith("<") and ids[0].endswith("@127.0.0.1>")
    assert first.key not in ids[0]  # a digest: the key's colons are not allowed in a Message-ID
    # Built again (as a repeat would be), the same; another installation with the same keys, a different one.
    assert message_id(engine.build_notice_email(first, clock.today)) == ids[0]
    with override_settings(SITE_URL="https://isms.example.org"):
        other_site = engine.notice_message_id(first)
    assert other_site != ids[0] and other_site.endswith("@isms.example.org>")
