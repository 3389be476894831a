"""The register, heatmap, queue, a risk's page and its history ask the database the same number of times
whatever the number of risks and assessments (the benchmark measures the time: benchmarks/risks_bench.py)."""

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from risks import services


def queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_the_same_queries_for_3_and_25_risks(clock, client_as, compliance, owner, make_risk, control):
    first = make_risk(owner, controls=[control])
    for i in range(2):
        make_risk(owner, title=f"Risk {i}")
    client = client_as(compliance)
    pages = [
        reverse("risks:index"),
        reverse("risks:heatmap"),
        reverse("risks:queue"),
        reverse("risks:detail", args=[first.pk]),
        reverse("risks:history", args=[first.pk]),
    ]
    for url in pages:
        client.get(url)  # warm: the criteria are made on first use
    before = {url: queries(client, url) for url in pages}
    for i in range(22):
        risk = make_risk(owner, title=f"More {i}", controls=[control], residual_likelihood=1 + i % 4)
        services.risk_review_request(risk=risk, reason="Incident", source="incident")
    for i in range(8):
        services.risk_update(risk=first, by=owner, reason=f"Change {i}", residual_impact=1 + i % 4)
    after = {url: queries(client, url) for url in pages}
    assert after == before
