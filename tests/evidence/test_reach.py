"""Who reads which evidence: one rule (evidence/reach.py) behind the library, the detail page, the download,
correction and deletion. An id outside a user's reach is a 404, exactly like an id that does not exist."""

import pytest
from django.urls import reverse

from evidence.models import EvidenceItem
from isms.foundation import reach
from tests.evidence.conftest import add_file

ROLES = ["admin", "compliance", "owner", "viewer", "auditor"]


def status(client, user, name, pk, method="get", data=None):
    client.force_login(user)
    return getattr(client, method)(reverse(name, args=[pk]), data or {}).status_code


@pytest.mark.parametrize(
    ("role", "detail", "download", "correct", "delete"),
    [
        ("admin", 200, 200, 200, 200),
        ("compliance", 200, 200, 200, 403),
        ("owner", 200, 200, 200, 403),  # submitted it, on their own task
        ("viewer", 200, 200, 403, 403),
        ("auditor", 403, 403, 403, 403),  # auditors read evidence only through their portal
    ],
)
def test_each_role_on_the_owners_evidence(client, users, world, role, detail, download, correct, delete):
    item = world["mine_file"]
    user = users[role]
    assert status(client, user, "evidence:detail", item.pk) == detail
    assert status(client, user, "evidence:download", item.pk) == download
    assert status(client, user, "evidence:correct", item.pk) == correct
    assert status(client, user, "evidence:delete", item.pk) == delete


@pytest.mark.parametrize("name", ["evidence:detail", "evidence:download", "evidence:correct"])
def test_guessing_another_owners_id_is_a_404(client, owner, world, name):
    theirs = world["theirs_file"]
    assert status(client, owner, name, theirs.pk) == 404
    assert status(client, owner, name, theirs.pk, method="post", data={"type": "note", "note": "x"}) in (404, 405)
    missing = EvidenceItem.objects.order_by("-pk").first().pk + 1000
    assert status(client, owner, name, missing) == 404
    assert EvidenceItem.objects.count() == 2  # nothing was created by the attempts


def test_owner_reaches_what_they_submitted_their_tasks_and_their_controls(owner, compliance, other_owner, world):
    on_my_control = add_file(compliance, control=world["mine"])  # filed by someone else, on my control
    on_requirement_by_me = add_file(owner, requirement=world["requirement"])
    on_requirement_by_them = add_file(compliance, requirement=world["requirement"])
    on_their_control_by_me = add_file(owner, control=world["theirs"])
    reached = set(reach.visible(owner, EvidenceItem).values_list("pk", flat=True))
    assert reached == {world["mine_file"].pk, on_my_control.pk, on_requirement_by_me.pk, on_their_control_by_me.pk}
    assert on_requirement_by_them.pk not in reached
    assert set(reach.visible(other_owner, EvidenceItem).values_list("pk", flat=True)) == {
        world["theirs_file"].pk,
        on_their_control_by_me.pk,
    }


def test_the_library_lists_only_what_the_user_may_read(client, owner, viewer, auditor, world):
    client.force_login(owner)
    body = client.get(reverse("evidence:index")).content.decode()
    assert reverse("evidence:detail", args=[world["mine_file"].pk]) in body
    assert reverse("evidence:detail", args=[world["theirs_file"].pk]) not in body
    client.force_login(viewer)
    body = client.get(reverse("evidence:index")).content.decode()
    assert reverse("evidence:detail", args=[world["theirs_file"].pk]) in body
    client.force_login(auditor)
    assert client.get(reverse("evidence:index")).status_code == 403


def test_an_owner_may_not_delete_even_their_own(client, owner, world):
    item = world["mine_file"]
    assert status(client, owner, "evidence:delete", item.pk, method="post", data={"reason": "mine"}) == 403
    item.refresh_from_db()
    assert not item.is_deleted


def test_adding_evidence_needs_the_target_in_reach(client, owner, viewer, world):
    # Olga's task is not the owner's: it does not exist for them. Her control exists, but is not theirs.
    client.force_login(owner)
    assert client.get(reverse("evidence:create", args=["occurrence", world["theirs_occ"].pk])).status_code == 404
    assert client.get(reverse("evidence:create", args=["control", world["theirs"].pk])).status_code == 403
    assert client.get(reverse("evidence:create", args=["control", world["mine"].pk])).status_code == 200
    assert client.get(reverse("evidence:create", args=["requirement", world["requirement"].pk])).status_code == 200
    assert client.get(reverse("evidence:create", args=["nonsense", world["mine"].pk])).status_code == 404
    client.force_login(viewer)
    assert client.get(reverse("evidence:create", args=["control", world["mine"].pk])).status_code == 403


def test_coverage_reach(client, owner, other_owner, viewer, auditor, compliance, world):
    mine = reverse("evidence:control_coverage", args=[world["mine"].pk])
    theirs = reverse("evidence:control_coverage", args=[world["theirs"].pk])
    requirement = reverse("evidence:requirement_coverage", args=[world["requirement"].pk])
    client.force_login(owner)
    assert client.get(mine).status_code == 200
    assert client.get(theirs).status_code == 403
    assert client.get(requirement).status_code == 200
    client.force_login(other_owner)  # owns no control mapped to the requirement
    assert client.get(requirement).status_code == 403
    for user in (viewer, compliance):
        client.force_login(user)
        assert client.get(theirs).status_code == 200
    client.force_login(auditor)
    assert client.get(mine).status_code == 403
