"""Heatmaps: counts per cell for inherent and residual, each cell a link to its risks, and the move from
inherent to residual drawn as arrows."""

from django.urls import reverse


def test_cells_count_and_link_to_their_risks_and_the_move_is_drawn(client_as, viewer, owner, make_risk):
    make_risk(owner, inherent_likelihood=5, inherent_impact=4, residual_likelihood=2, residual_impact=4)
    make_risk(owner, title="B", inherent_likelihood=5, inherent_impact=4, residual_likelihood=2, residual_impact=4)
    make_risk(owner, title="C", inherent_likelihood=2, inherent_impact=2, residual_likelihood=2, residual_impact=2)
    page = client_as(viewer).get(reverse("risks:heatmap")).content.decode()
    assert 'href="/risks/?il=5&amp;ii=4" aria-label="2 risks at likelihood 5, impact 4">2</a>' in page
    assert 'href="/risks/?rl=2&amp;ri=4" aria-label="2 risks at likelihood 2, impact 4">2</a>' in page
    assert page.count("marker-end=") == 1 and "<title>2 risks</title>" in page  # one arrow, for both risks
    assert "<title>1 risk not moved</title>" in page  # C stays where it was
    listed = client_as(viewer).get("/risks/?il=5&ii=4").content.decode()
    assert "Ransomware" in listed and ">C</a>" not in listed


def test_an_empty_register_says_how_to_fill_it(client_as, compliance):
    page = client_as(compliance).get(reverse("risks:index")).content.decode()
    assert "No risks yet" in page and "New risk" in page
