"""Framework catalogues from YAML: Annex A as shipped, idempotent re-loading, retiring, bad files, the command."""

import io

import pytest
import yaml
from django.core.management import CommandError, call_command

from controls.catalogue import CATALOGUE_DIR, CatalogueError, load_catalogue, shipped_catalogues
from controls.models import Framework, Requirement

ANNEX_A = CATALOGUE_DIR / "iso27001-2022-annex-a.yaml"


def identifiers(framework, **filters) -> list[str]:
    return list(framework.requirements.filter(**filters).order_by("position").values_list("identifier", flat=True))


def write(tmp_path, data: dict | str, name: str = "catalogue.yaml"):
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def small(*requirements, title_of_a2="Second") -> dict:
    return {
        "framework": {"code": "test-fw", "name": "Test framework", "version": "1"},
        "groups": [
            {
                "name": "Group A",
                "requirements": [
                    {"id": "A.1", "title": "First"},
                    {"id": "A.2", "title": title_of_a2},
                    *requirements,
                ],
            }
        ],
    }


def test_annex_a_has_93_controls_in_four_themes(db):
    result = load_catalogue(ANNEX_A)

    framework = result.framework
    assert (framework.code, framework.has_soa) == ("iso27001-2022-annex-a", True)
    assert result.created == 93 and result.updated == 0 and result.retired == 0
    assert framework.requirements.count() == 93
    themes = list(dict.fromkeys(framework.requirements.order_by("position").values_list("group", flat=True)))
    assert themes == ["Organizational controls", "People controls", "Physical controls", "Technological controls"]
    expected = (
        [f"5.{n}" for n in range(1, 38)]
        + [f"6.{n}" for n in range(1, 9)]
        + [f"7.{n}" for n in range(1, 15)]
        + [f"8.{n}" for n in range(1, 35)]
    )
    assert identifiers(framework) == expected
    for theme, prefix, count in [
        ("Organizational controls", "5.", 37),
        ("People controls", "6.", 8),
        ("Physical controls", "7.", 14),
        ("Technological controls", "8.", 34),
    ]:
        in_theme = identifiers(framework, group=theme)
        assert len(in_theme) == count and all(i.startswith(prefix) for i in in_theme)


def test_reloading_is_idempotent(db):
    load_catalogue(ANNEX_A)
    before = list(Requirement.objects.order_by("pk").values_list("pk", "identifier", "title", "position"))

    again = load_catalogue(ANNEX_A)

    assert (again.created, again.updated, again.retired) == (0, 0, 0)
    assert Framework.objects.count() == 1
    assert list(Requirement.objects.order_by("pk").values_list("pk", "identifier", "title", "position")) == before


def test_a_changed_title_is_updated_in_place(db, tmp_path):
    first = load_catalogue(write(tmp_path, small()))
    a2 = first.framework.requirements.get(identifier="A.2")

    result = load_catalogue(write(tmp_path, small(title_of_a2="Second, renamed")))

    assert (result.created, result.updated, result.retired) == (0, 1, 0)
    a2_after = Requirement.objects.get(framework=result.framework, identifier="A.2")
    assert a2_after.pk == a2.pk and a2_after.title == "Second, renamed"


def test_a_removed_requirement_is_retired_not_deleted_and_comes_back(db, tmp_path):
    framework = load_catalogue(write(tmp_path, small({"id": "A.3", "title": "Third"}))).framework
    a3 = framework.requirements.get(identifier="A.3")

    result = load_catalogue(write(tmp_path, small()))

    assert result.retired == 1
    a3.refresh_from_db()
    assert a3.retired is True
    assert identifiers(framework, retired=False) == ["A.1", "A.2"]

    back = load_catalogue(write(tmp_path, small({"id": "A.3", "title": "Third"})))
    a3.refresh_from_db()
    assert a3.retired is False and back.created == 0 and framework.requirements.count() == 3


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("framework: [unclosed", "cannot read"),
        ("just a string", "needs a 'framework' mapping and a 'groups' list"),
        ({"framework": {"name": "No code"}, "groups": []}, "framework.code is missing"),
        (
            {"framework": {"code": "x", "name": "X"}, "groups": [{"name": "G", "requirements": [{"id": "1"}]}]},
            "every requirement needs an id and a title",
        ),
        (
            {
                "framework": {"code": "x", "name": "X"},
                "groups": [{"name": "G", "requirements": [{"id": "1", "title": "a"}, {"id": "1", "title": "b"}]}],
            },
            "requirement id 1 appears twice",
        ),
    ],
)
def test_a_bad_file_gives_a_clear_error_and_loads_nothing(db, tmp_path, content, message):
    path = write(tmp_path, content)

    with pytest.raises(CatalogueError, match=message) as error:
        load_catalogue(path)

    assert str(path) in str(error.value)
    assert not Framework.objects.exists()


def test_a_missing_file_gives_a_clear_error(db, tmp_path):
    with pytest.raises(CatalogueError, match="cannot read"):
        load_catalogue(tmp_path / "nope.yaml")


def test_the_command_loads_every_shipped_catalogue(db):
    out = io.StringIO()

    call_command("load_catalogue", stdout=out)

    assert len(shipped_catalogues()) == 3
    assert set(Framework.objects.values_list("code", flat=True)) == {
        "iso27001-2022-annex-a",
        "iso27001-2022-clauses",
        "gdpr",
    }
    assert "ISO/IEC 27001:2022 Annex A: 93 requirements (93 new, 0 updated, 0 retired)" in out.getvalue()
    assert Framework.objects.filter(has_soa=True).get().code == "iso27001-2022-annex-a"

    call_command("load_catalogue", stdout=io.StringIO())  # again: nothing doubles
    assert Requirement.objects.filter(framework__code="iso27001-2022-annex-a").count() == 93


def test_the_command_reports_a_bad_file(db, tmp_path):
    with pytest.raises(CommandError, match="needs a 'framework' mapping"):
        call_command("load_catalogue", str(write(tmp_path, "[]")), stdout=io.StringIO())


def test_gdpr_loads_as_a_second_framework_beside_annex_a(db):
    annex_a = load_catalogue(ANNEX_A).framework

    gdpr = load_catalogue(CATALOGUE_DIR / "gdpr.yaml").framework

    assert gdpr.pk != annex_a.pk and gdpr.code == "gdpr" and gdpr.has_soa is False
    assert gdpr.requirements.filter(identifier="Art. 32").exists()
    assert annex_a.requirements.count() == 93  # untouched
    # An identifier may repeat across frameworks: clauses and Annex A both have a "5.1".
    clauses = load_catalogue(CATALOGUE_DIR / "iso27001-2022-clauses.yaml").framework
    assert Requirement.objects.filter(identifier="5.1").count() == 2
    assert clauses.requirements.get(identifier="5.1").title == "Leadership and commitment"


def test_a_manager_loads_the_shipped_catalogues_from_the_page(client_as, compliance, viewer):
    """No command on the server: the SoA's empty page offers the button, and loading twice changes nothing."""
    from django.urls import reverse

    from controls.models import Framework

    page = client_as(compliance).get(reverse("controls:soa")).content.decode()
    assert "Load the ISO/IEC 27001:2022 catalogue" in page and "manage.py" not in page
    assert "manage.py" not in client_as(viewer).get(reverse("controls:soa")).content.decode()
    response = client_as(compliance).post(reverse("controls:catalogues_load"), {"next": "soa"})
    assert response.status_code == 302 and response["Location"] == reverse("controls:soa")
    loaded = Framework.objects.count()
    assert loaded >= 3
    client_as(compliance).post(reverse("controls:catalogues_load"))
    assert Framework.objects.count() == loaded
    assert "Statement of Applicability" in client_as(compliance).get(reverse("controls:soa")).content.decode()
