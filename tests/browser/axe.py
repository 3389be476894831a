"""axe-core (the npm package, node_modules/axe-core; `make test` installs it) run on every page the browser tests see.

The page fixture (conftest.py) watches its tab: each document it shows is checked by axe-core against WCAG 2.1
A and AA once it has loaded, and again after each htmx swap. Before the tab leaves a document (a link, a form,
a `goto`) or sends an htmx request, the request waits until that document's check is over, so no page goes
unchecked because the test moved on; the test's end waits for the last one. Any serious or critical violation
fails the test, naming the rule, the element, the page and who was signed in.

axe runs inside the page, given to the browser as an init script (the Content-Security-Policy does not apply to
those: they are the test's, not the page's), and reports back through a binding.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
AXE_JS = ROOT / "node_modules" / "axe-core" / "axe.min.js"
# WCAG 2.0 and 2.1, levels A and AA. label-content-name-mismatch (WCAG 2.5.3) is asked for by name as well, in
# case an axe release marks it experimental again (off by default then).
RUN_OPTIONS = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
    "rules": {"label-content-name-mismatch": {"enabled": True}},
    "resultTypes": ["violations"],
}
# Left out: the interactive API reference drawn by Swagger UI on /api/docs/ (a third-party widget for developers:
# its method badges' contrast and its nested buttons are upstream's; the page around it is still checked).
EXCLUDE = [["#swagger-ui"]]
# How long a navigation waits for the check of the page it leaves (a large page takes a second or two), and for a
# page that has not finished loading to start its check (a page whose own script moves on before it has loaded, as
# the emailed task link does, is one nobody gets to see).
WAIT_SECONDS = 30
LOAD_GRACE_SECONDS = 3
RUNNER = """
(() => {
  if (window.top !== window || document.contentType !== "text/html") return;
  const doc = Math.random().toString(36).slice(2);
  let dirty = true, running = null;
  window.__a11yReport({ phase: "new", doc });
  async function check() {
    while (running) await running;
    if (!dirty) return;
    dirty = false;
    window.__a11yReport({ phase: "start", doc });
    running = (async () => {
      let report = { phase: "done", doc, url: location.pathname + location.search, violations: [] };
      try {
        const badge = document.querySelector("#user-menu .badge");
        report.who = badge ? badge.textContent.trim() : "signed out";
        // Colours mid-transition (a button taking the focus fades in) are not what a person reads: let them end.
        const settled = Promise.all(document.getAnimations().map((a) => a.finished.catch(() => null)));
        await Promise.race([settled, new Promise((done) => setTimeout(done, 1000))]);
        const result = await window.axe.run({ exclude: EXCLUDE }, OPTIONS);
        report.violations = result.violations
          .filter((v) => v.impact === "serious" || v.impact === "critical")
          .map((v) => ({
            rule: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.map((n) => ({
              target: n.target.join(" "), html: n.html.slice(0, 200), summary: n.failureSummary || "",
            })),
          }));
      } catch (error) {
        report.error = String(error);
      }
      await window.__a11yReport(report);
    })();
    try { await running; } finally { running = null; }
  }
  window.addEventListener("load", check);
  document.addEventListener("htmx:afterSettle", () => {
    dirty = true;
    if (document.readyState === "complete") check();
  });
})();
"""


@dataclass
class Finding:
    url: str
    who: str
    rule: str
    impact: str
    help: str
    target: str
    html: str
    summary: str

    def __str__(self) -> str:
        summary = " ".join(self.summary.split())
        return (
            f"{self.url} (as {self.who}): {self.rule} [{self.impact}] {self.help}\n"
            f"    element {self.target}: {self.html}\n    {summary}"
        )


class AxeWatch:
    """Checks each document one Playwright tab shows; `findings` holds the serious and critical violations."""

    def __init__(self, page):
        self.page = page
        self.findings: list[Finding] = []
        self.errors: list[str] = []
        self.checked: list[str] = []  # the URL of each check, in order
        self.pending: dict[str, str] = {}  # documents whose check is to come ("new") or under way ("start")
        self.current: str | None = None
        runner = RUNNER.replace("OPTIONS", json.dumps(RUN_OPTIONS)).replace("EXCLUDE", json.dumps(EXCLUDE))
        guarded = f'if (window.top === window && document.contentType === "text/html") {{\n{AXE_JS.read_text()}\n}}'
        page.expose_binding("__a11yReport", self._on_report)
        page.add_init_script(script=guarded + "\n" + runner)
        page.route(lambda url: "/static/" not in url, self._on_request)

    def _on_report(self, source, report: dict) -> None:
        doc = report["doc"]
        if report["phase"] in ("new", "start"):
            if report["phase"] == "new":
                self.pending.pop(self.current, None)  # the document before it is gone, checked or not
                self.current = doc
            self.pending[doc] = report["phase"]
        else:
            self.pending.pop(doc, None)
            self.checked.append(report["url"])
            if report.get("error"):
                self.errors.append(f"{report['url']}: axe-core could not run: {report['error']}")
            for violation in report["violations"]:
                for node in violation["nodes"]:
                    self.findings.append(
                        Finding(
                            url=report["url"],
                            who=report.get("who", "?"),
                            rule=violation["rule"],
                            impact=violation["impact"],
                            help=violation["help"],
                            target=node["target"],
                            html=node["html"],
                            summary=node["summary"],
                        )
                    )

    def _on_request(self, route, request) -> None:
        try:
            leaving = request.is_navigation_request() and request.frame == self.page.main_frame
            if leaving or request.headers.get("hx-request"):
                self.wait()
        finally:
            route.continue_()

    def wait(self) -> None:
        """Until the document on screen has been checked (its load and any htmx swap), at most WAIT_SECONDS."""
        started = time.monotonic()
        while self.current in self.pending and not self.page.is_closed():
            waited = time.monotonic() - started
            if waited > WAIT_SECONDS or (self.pending[self.current] == "new" and waited > LOAD_GRACE_SECONDS):
                return
            self.page.wait_for_timeout(50)  # lets Playwright deliver the page's report meanwhile

    def report(self) -> str:
        lines = [f"axe-core found {len(self.findings)} serious or critical WCAG 2.1 A/AA violation(s):"]
        seen = set()
        for finding in [*self.findings]:
            text = str(finding)
            if text not in seen:
                seen.add(text)
                lines.append(f"- {text}")
        return "\n".join([*lines, *self.errors])
