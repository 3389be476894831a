"""Administrators manage people and departments in the app: the list, a person's role, department and details,
deactivating and reactivating, and departments added, renamed and deleted only once nothing belongs to them. Each
refusal says what to do."""

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from isms.accounts.models import Department, User
from isms.foundation.roles import Role
from tests.factories import DepartmentFactory, UserFactory, make_control


def test_the_list_shows_everyone_with_their_state_and_filters(client, admin_user, users, inactive_user):
    UserFactory(username="fresh", first_name="Fresh")
    User.objects.filter(username="fresh").update(password="!unusable", last_login=None)  # invited, not yet in
    client.force_login(admin_user)
    page = client.get(reverse("accounts:people")).content.decode()
    for name in ("admin", "compliance", "owner", "viewer", "auditor", "leaver", "fresh"):
        assert f">{name}</td>" in page
    assert "Deactivated" in page and "Invited" in page
    only = client.get(reverse("accounts:people"), {"state": "invited"}).content.decode()
    assert "fresh" in only and "leaver" not in only
    by_role = client.get(reverse("accounts:people"), {"role": "auditor"})
    assert [row.record.username for row in by_role.context["table"].page.object_list] == ["auditor"]
    csv = client.get(reverse("accounts:people"), {"export": "csv"}).content.decode()
    assert "Invited" in csv and "Two-step sign-in" in csv


def test_the_list_asks_the_same_number_of_queries_for_few_and_many(client, admin_user, users):
    client.force_login(admin_user)
    client.get(reverse("accounts:people"))
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("accounts:people"))
    for n in range(20):
        UserFactory(username=f"extra{n}", department=DepartmentFactory(name=f"D{n}"))
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("accounts:people"))
    assert len(many.captured_queries) == len(few.captured_queries)


def test_changing_a_role_and_department(client, admin_user, owner, department):
    client.force_login(admin_user)
    legal = DepartmentFactory(name="Legal")
    data = {"first_name": "Ola", "last_name": "Own", "email": owner.email, "role": "compliance", "department": legal.pk}
    response = client.post(reverse("accounts:person", args=[owner.pk]), data)
    assert response.status_code == 302
    owner.refresh_from_db()
    assert owner.role == Role.COMPLIANCE and owner.department == legal


def test_bad_input_is_refused_with_what_to_do(client, admin_user, owner, viewer):
    client.force_login(admin_user)
    url = reverse("accounts:person", args=[owner.pk])
    taken = client.post(url, {"first_name": "O", "email": viewer.email, "role": "owner"})
    assert "Someone already has this email address" in taken.content.decode()
    nonsense = client.post(url, {"first_name": "", "email": "nope", "role": "boss", "department": "999999"})
    html = nonsense.content.decode()
    assert "This field is required" in html and "Enter a valid email address" in html
    assert "Select a valid choice" in html
    owner.refresh_from_db()
    assert owner.role == Role.OWNER


def test_an_administrator_cannot_demote_or_deactivate_themselves_or_the_last_administrator(client, admin_user):
    client.force_login(admin_user)
    own = client.post(
        reverse("accounts:person", args=[admin_user.pk]),
        {"first_name": "A", "email": admin_user.email, "role": "viewer"},
    )
    assert "You cannot change your own role" in own.content.decode()
    off = client.post(reverse("accounts:person_deactivate", args=[admin_user.pk]), follow=True)
    assert "You cannot deactivate your own account" in off.content.decode()
    admin_user.refresh_from_db()
    assert admin_user.is_active and admin_user.role == Role.ADMIN

    other = UserFactory(username="root2", role=Role.ADMIN)
    client.post(reverse("accounts:person_deactivate", args=[other.pk]))  # fine: admin_user remains
    other.refresh_from_db()
    assert not other.is_active


def test_deactivating_and_reactivating(client, admin_user, owner):
    client.force_login(admin_user)
    response = client.post(reverse("accounts:person_deactivate", args=[owner.pk]), follow=True)
    assert "is deactivated and signed out" in response.content.decode()
    owner.refresh_from_db()
    assert not owner.is_active
    client.post(reverse("accounts:person_reactivate", args=[owner.pk]))
    owner.refresh_from_db()
    assert owner.is_active


def test_a_guessed_id_is_not_found(client, admin_user):
    client.force_login(admin_user)
    assert client.get(reverse("accounts:person", args=[987654])).status_code == 404
    assert client.get(reverse("accounts:department", args=[987654])).status_code == 404


def test_departments_are_added_renamed_and_deleted_once_empty(client, admin_user, owner, department):
    client.force_login(admin_user)
    assert client.post(reverse("accounts:department_new"), {"name": "  Legal   team "}).status_code == 302
    legal = Department.objects.get(name="Legal team")
    clash = client.post(reverse("accounts:department_new"), {"name": "legal TEAM"})
    assert "There is already a department with this name" in clash.content.decode()
    blank = client.post(reverse("accounts:department_new"), {"name": "   "})
    assert "This field is required" in blank.content.decode() or "Give the department a name" in blank.content.decode()

    client.post(reverse("accounts:department", args=[legal.pk]), {"name": "Legal"})
    legal.refresh_from_db()
    assert legal.name == "Legal"

    make_control(owner)  # filed under the owner's department (IT)
    refused = client.post(reverse("accounts:department_delete", args=[department.pk]), follow=True)
    html = refused.content.decode()
    assert "IT still has" in html and "1 control" in html and "Move them to another department first" in html
    assert Department.objects.filter(pk=department.pk).exists()

    client.post(reverse("accounts:department_delete", args=[legal.pk]))
    assert not Department.objects.filter(pk=legal.pk).exists()
