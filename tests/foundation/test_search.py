"""Text search written once (isms/foundation/search.py): a search filter with the same rows on every database,
its trigram index on PostgreSQL, and the box that names one row of a long list by typing."""

import pytest
from django import forms
from django.db import connection

from controls.models import Control
from isms.foundation.search import AddTrigramIndex, Lookup, LookupField, contains, words_match
from tests.factories import make_control


@pytest.fixture
def catalogue(owner):
    make_control(owner, "AC-01", "Access control policy")
    make_control(owner, "AC-02", "Privileged access rights")
    make_control(owner, "BK-01", "Backup 100% verified")
    make_control(owner, "HR_01", "Screening")


def refs(qs) -> list[str]:
    return sorted(qs.values_list("reference", flat=True))


def test_contains_finds_the_text_in_any_column_whatever_its_case(catalogue):
    controls = Control.objects.all()
    assert refs(contains(controls, "ACCESS", "name")) == ["AC-01", "AC-02"]
    assert refs(contains(controls, " ac-0 ", "reference", "name")) == ["AC-01", "AC-02"]
    assert refs(contains(controls, "access control", "name")) == ["AC-01"]  # the text as typed, not each word
    assert refs(contains(controls, "100%", "name")) == ["BK-01"]  # wildcards are plain characters
    assert refs(contains(controls, "_", "reference")) == ["HR_01"]
    assert refs(contains(controls, "", "name")) == refs(controls)  # nothing typed: no filter
    assert refs(words_match(controls, "access rights", ("reference", "name"))) == ["AC-02"]


@pytest.mark.django_db(transaction=True)
def test_the_trigram_index_is_made_on_postgresql_only():
    operation = AddTrigramIndex("controls_control", "name", "controls_control_name_trgm_test")
    with connection.schema_editor() as editor:
        operation._create(None, editor)
    try:
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'controls_control_name_trgm_test'")
                assert "gin_trgm_ops" in cursor.fetchone()[0]
            else:  # nothing to do elsewhere: the plain filter stays
                assert "controls_control_name_trgm_test" not in connection.introspection.get_constraints(
                    cursor, "controls_control"
                )
    finally:
        with connection.schema_editor() as editor:
            operation._drop(None, editor)
    assert operation.deconstruct()[1] == ["controls_control", "name", "controls_control_name_trgm_test"]


CONTROL = Lookup(
    noun="control",
    plural="controls",
    label=lambda c: f"{c.reference} {c.name}",
    exact=lambda qs, text: qs.filter(reference__iexact=text),
    fields=("reference", "name"),
    order=("reference",),
)


class PickForm(forms.Form):
    control = LookupField(lookup=CONTROL, queryset=Control.objects.exclude(reference="HR_01"))


def test_a_lookup_box_names_one_row_by_reference_id_or_words(catalogue):
    ac01 = Control.objects.get(reference="AC-01")
    for typed in ("ac-01", str(ac01.pk), "access control", "  Access   policy "):
        form = PickForm({"control": typed})
        assert form.is_valid() and form.cleaned_data["control"] == ac01, typed
        assert form["control"].value() == "AC-01 Access control policy"  # the box shows the chosen row
    empty = PickForm({"control": ""})
    assert empty.is_valid() and empty.cleaned_data["control"] is None
    errors = {
        "access": "Several controls match “access” (AC-01 Access control policy; AC-02 Privileged access rights)",
        "screening": "No control matches “screening”",  # outside the field's queryset: as if it did not exist
        "999999": "No control matches “999999”",
        "x" * 201: "Type at most 200 characters",
    }
    for typed, message in errors.items():
        form = PickForm({"control": typed})
        assert not form.is_valid() and message in form.errors["control"][0], typed
        assert form["control"].value() == typed  # what was typed stays in the box
    assert CONTROL.suggest(Control.objects.all(), "a", limit=2) == [
        "AC-01 Access control policy",
        "AC-02 Privileged access rights",
    ]
