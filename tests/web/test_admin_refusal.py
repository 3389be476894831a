"""The Django admin answers a signed-in person without the administrator role with the 403 page, instead of
sending them to the login page, which sent them straight back ("too many redirects")."""

import pytest
from django.urls import reverse


@pytest.mark.parametrize("actor", ["compliance", "owner", "viewer", "auditor"])
def test_admin_refuses_non_administrators_without_a_redirect_loop(client_as, users, actor):
    client = client_as(users[actor])
    for url in (reverse("admin:index"), reverse("admin:accounts_user_changelist")):
        response = client.get(url, follow=True)  # a loop would raise RedirectCycleError
        assert response.status_code == 403, url
        assert response.redirect_chain == []
        assert b"have access" in response.content


def test_admin_sends_a_signed_out_visitor_to_the_login_page(client, db):
    response = client.get(reverse("admin:index"), follow=True)
    assert response.status_code == 200
    assert response.redirect_chain[-1][0].startswith(reverse("login"))


def test_admin_opens_for_the_administrator(client_as, admin_user):
    assert client_as(admin_user).get(reverse("admin:index")).status_code == 200
