"""Evidence pages, downloads and the task pages tell browsers and proxies to keep no copy (Cache-Control:
no-store): a shared computer's cache or a proxy must not hand evidence to the next person."""

from django.urls import reverse

from isms.maintenance.links import make_token


def assert_not_stored(response, url):
    assert response.status_code == 200, url
    assert "no-store" in response.get("Cache-Control", ""), f"{url}: {response.get('Cache-Control')!r}"


def test_evidence_pages_and_downloads_are_not_kept(client_as, compliance, auditor, world):
    client = client_as(compliance)
    item = world["mine_file"]
    for url in (
        reverse("evidence:index"),
        reverse("evidence:detail", args=[item.pk]),
        reverse("evidence:download", args=[item.pk]),
        reverse("evidence:control_coverage", args=[world["mine"].pk]),
        reverse("evidence:requirement_coverage", args=[world["requirement"].pk]),
        reverse("maintenance:occurrence", args=[world["mine_occ"].pk]),
    ):
        assert_not_stored(client.get(url), url)
    home = reverse("portal:home")  # the auditor's landing page (the portal's own pages: tests/portal)
    assert_not_stored(client_as(auditor).get(home), home)


def test_the_emailed_task_page_is_not_kept(client, world):
    occ = world["mine_occ"].schedule.occurrences.filter(state="open").order_by("due_date").first()
    page = reverse("maintenance:task_link")
    assert_not_stored(client.get(page), page)
    opened = client.post(page, {"token": make_token(occ)}, follow=True)
    assert_not_stored(opened, opened.redirect_chain[-1][0])
