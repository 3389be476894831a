"""Each role walks the demo organisation in a real Chromium: every page its navigation offers, and one page of each
kind linked from those (a task, a control, a requirement, a schedule, an evidence item, a version…). The page
fixture checks each with axe-core (WCAG 2.1 A/AA, tests/browser/axe.py), so a serious or critical violation on
any of them, as any role, fails here with the rule, the element and the page. Pages added later are walked as
soon as a navigation page links to them."""

import re
from urllib.parse import urlsplit

import pytest

from isms.web.demo import demo_load

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "browser-test-pass"
ROLES = ["compliance", "owner", "viewer", "auditor", "admin"]
# The administrator sees what the compliance manager sees and a little more: only the kinds of page no other role
# was shown are walked for them.
EXTRA_ONLY = {"admin"}
# Not pages to read: downloads, feeds, sign-out, the machine-facing API, Django's administration screens (checked
# through their index only) and links into a page.
SKIP = re.compile(r"\.(pdf|csv|xlsx|ics|json)$|[?&]export=|/logout/|/api/(schema|v1)/|/admin/.+|/static/|/media/")
MOST_PER_ROLE = 30
MOST_KINDS = 120


def kind_of(path: str) -> str:
    """The kind of page a path is: numbers and tokens stand for any (/controls/12/ and /controls/40/ are one kind)."""
    return re.sub(r"/[0-9]+(?=/|$)|/[A-Za-z0-9_:-]{20,}(?=/|$)", "/N", path)


def links_on(page, base: str) -> list[str]:
    hrefs = page.locator("main a[href], nav a[href]").evaluate_all("els => els.map(e => e.href)")
    paths = []
    for href in hrefs:
        parts = urlsplit(href)
        if f"{parts.scheme}://{parts.netloc}" != base or not parts.path.startswith("/"):
            continue
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        if not SKIP.search(path):
            paths.append(path)
    return paths


def sign_in_as(page, base: str, username: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def test_every_kind_of_page_as_each_role(live_server, page, settings, tmp_path):
    """Each role: the landing page and every kind of page it links to (its navigation among them); then, once for
    all roles, every further kind of page those link to."""
    settings.MEDIA_ROOT = tmp_path / "media"
    demo_load(password=PASSWORD)
    base = live_server.url
    further: list[tuple[str, str]] = []  # (role, path) one level further, walked once per kind for all roles
    walked: dict[str, list[str]] = {}
    for role in ROLES:
        sign_in_as(page, base, role)
        walked[role] = [page.url.removeprefix(base)]
        kinds = {kind_of(walked[role][0])}
        if role in EXTRA_ONLY:
            kinds |= {kind_of(path.split("?")[0]) for paths in walked.values() for path in paths}
        for path in links_on(page, base):
            if (kind := kind_of(path.split("?")[0])) in kinds or len(walked[role]) >= MOST_PER_ROLE:
                continue
            kinds.add(kind)
            response = page.goto(f"{base}{path}")
            if response is not None and "text/html" in response.headers.get("content-type", ""):
                walked[role].append(path)
                further += [(role, link) for link in links_on(page, base)]
        assert len(walked[role]) >= (2 if role in {"auditor", *EXTRA_ONLY} else 6), walked[role]

    seen = {kind_of(path.split("?")[0]) for paths in walked.values() for path in paths}
    for role in ROLES:
        todo = []
        for who, path in further:
            kind = kind_of(path.split("?")[0])
            if who == role and kind not in seen and len(seen) < MOST_KINDS:
                seen.add(kind)
                todo.append(path)
        if todo:
            sign_in_as(page, base, role)
        for path in todo:
            page.goto(f"{base}{path}")
