"""Where a load-test page spends its time, in this process: `python -m benchmarks.profile_page PAGE [PAGE …]`.

Uses the load test's data set (`isms_load`, built by `make loadtest`) and settings, signs in as the load test does
(busiest compliance manager, busiest control owner, the emailed task link) and requests each page through Django's
test client, with the page cache off unless --warm (so each request builds the page, as the first view after a change
does): CPU per request (median of --runs), queries, HTML size, and with --profile the functions cProfile
finds most costly. The floor is measured first, so each figure is also a multiple of it. A tool for finding what
to change, not a benchmark: `make loadtest` measures the pages under load.
"""

import argparse
import cProfile
import io
import os
import pstats
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

from . import load_data, loadtest


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.profile_page", description=__doc__.split("\n")[0])
    parser.add_argument("pages", nargs="*", help="page keys as in `make loadtest --only` (all when none)")
    parser.add_argument("--runs", type=int, default=15, help="requests per page after two untimed (15)")
    parser.add_argument("--profile", action="store_true", help="print cProfile's costliest functions")
    parser.add_argument("--top", type=int, default=30, help="functions to print with --profile (30)")
    parser.add_argument("--sort", default="cumulative", help="cProfile sort key (cumulative; tottime)")
    parser.add_argument(
        "--warm", action="store_true", help="keep the page cache on (repeated views); by default each view is built"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    config = load_data.server_config()
    with load_data.maintenance_connection(config) as conn:
        if load_data.recorded(conn) is None:
            print("No load-test data set: run `make loadtest` once first.", file=sys.stderr)
            return 2
    tmp = Path(tempfile.mkdtemp(prefix="isms-profile-"))
    loadtest._environment(tmp, config)
    if not args.warm:
        os.environ["PAGE_CACHE_SECONDS"] = "0"  # build every page: the first view after a change
    warnings.filterwarnings("ignore", message="No directory at")

    import django

    django.setup()

    from django.conf import settings
    from django.db import connection, reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from isms.maintenance import links

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    targets = load_data.pick_targets()
    page_list = [p for p in loadtest.pages(targets) if p.key == "floor-start" or not p.key.startswith("floor")]
    if args.pages:
        unknown = set(args.pages) - {p.key for p in page_list}
        if unknown:
            print(f"Unknown pages: {', '.join(sorted(unknown))}", file=sys.stderr)
            return 2
        page_list = [p for p in page_list if p.key == "floor-start" or p.key in args.pages]
    backend = "django.contrib.auth.backends.ModelBackend"
    clients = {"manager": Client(), "owner": Client(), "task": Client()}
    clients["manager"].force_login(targets.manager, backend=backend)
    load_data.second_step_passed(clients["manager"], load_data.authenticator_for(targets.manager))
    clients["owner"].force_login(targets.owner, backend=backend)
    clients["task"].post(reverse("maintenance:task_link"), {"token": links.make_token(targets.task)})
    floor_cpu = None
    for page in page_list:
        client = clients[page.who]
        for _ in range(2):
            client.get(page.path)
        cpu, wall = [], []
        for _ in range(args.runs):
            c0, w0 = time.process_time(), time.perf_counter()
            response = client.get(page.path)
            cpu.append((time.process_time() - c0) * 1000)
            wall.append((time.perf_counter() - w0) * 1000)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(page.path)
        cpu_ms = statistics.median(cpu)
        floor_cpu = floor_cpu or cpu_ms
        print(
            f"{page.label:45} HTTP {response.status_code}  CPU {cpu_ms:7.1f} ms (×{cpu_ms / floor_cpu:5.1f})  "
            f"wall {statistics.median(wall):7.1f} ms  queries {len(queries):3}  "
            f"HTML {len(response.content) / 1024:6.1f} KB"
        )
        if args.profile and not page.key.startswith("floor"):
            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(5):
                client.get(page.path)
            profiler.disable()
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats(args.sort).print_stats(args.top)
            print(out.getvalue())
        reset_queries()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
