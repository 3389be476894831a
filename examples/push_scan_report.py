#!/usr/bin/env python3
"""Push this month's vulnerability-scan report to the ISMS tracker as evidence for a control.

Run it once a month, after the scan (cron, a CI schedule, the scanner's post-scan hook):

    ISMS_URL=https://isms.example.com ISMS_TOKEN=<token> CONTROL_ID=12 \\
        python3 push_scan_report.py /var/reports/scan-latest.pdf

ISMS_TOKEN is an API token with the evidence:write scope (API tokens page, /api/tokens/), acting for the
control's owner or a service account that owns the control. Standard library only.

Safe to re-run: the Idempotency-Key is the month plus the report's SHA-256, so a retry, or a second run in the
same month with the same report, returns the evidence already recorded instead of adding a copy. A different
report in the same month is a new key, and is recorded too. Exit status: 0 recorded, 1 refused or unreachable,
2 misconfigured.
"""

import calendar
import datetime
import hashlib
import json
import os
import sys
import time
import urllib.error
import urllib.request
import uuid

ATTEMPTS = 4  # network errors and 5xx answers are retried with the same key: never a duplicate


def multipart(fields: dict[str, str], file_field: str, file_name: str, content: bytes) -> tuple[bytes, str]:
    """A multipart/form-data body and its Content-Type."""
    boundary = uuid.uuid4().hex
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{file_field}"; filename="{file_name}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n".encode()
        + content
        + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def push(url: str, token: str, control: str, path: str, today: datetime.date) -> dict:
    with open(path, "rb") as handle:
        content = handle.read()
    digest = hashlib.sha256(content).hexdigest()
    month = today.strftime("%Y-%m")
    fields = {
        "control": control,
        "title": f"Vulnerability scan report {month}",
        "effective_date": today.isoformat(),
        "period_start": today.replace(day=1).isoformat(),
        "period_end": today.replace(day=calendar.monthrange(today.year, today.month)[1]).isoformat(),
    }
    body, content_type = multipart(fields, "file", os.path.basename(path), content)
    headers = {
        "Authorization": f"Bearer {token}",
        "Content-Type": content_type,
        "Accept": "application/json",
        "Idempotency-Key": f"scan-report-{month}-{digest[:40]}",
    }
    for attempt in range(1, ATTEMPTS + 1):
        # The URL comes from ISMS_URL, the operator's own configuration.
        request = urllib.request.Request(f"{url}/api/v1/evidence/", data=body, headers=headers, method="POST")  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=300) as response:  # noqa: S310
                result = json.load(response)
                result["replayed"] = response.headers.get("Idempotent-Replayed") == "true"
        except urllib.error.HTTPError as exc:
            if exc.code < 500 and exc.code != 429:
                raise SystemExit(f"Refused ({exc.code}): {exc.read().decode(errors='replace')}") from None
            problem = f"the server answered {exc.code}"
        except urllib.error.URLError as exc:
            problem = f"could not reach {url}: {exc.reason}"
        else:
            if result["sha256"] != digest:
                raise SystemExit(f"The server recorded SHA-256 {result['sha256']}, but the file's is {digest}.")
            return result
        if attempt == ATTEMPTS:
            raise SystemExit(f"Gave up after {ATTEMPTS} attempts: {problem}.")
        print(f"Attempt {attempt}: {problem}; retrying with the same key.", file=sys.stderr)
        time.sleep(2**attempt)
    raise AssertionError("unreachable")


def main(argv: list[str]) -> int:
    settings = {name: os.environ.get(name, "").strip() for name in ("ISMS_URL", "ISMS_TOKEN", "CONTROL_ID")}
    missing = [name for name, value in settings.items() if not value]
    if len(argv) != 2 or missing:
        print(__doc__, file=sys.stderr)
        if missing:
            print(f"Not set: {', '.join(missing)}.", file=sys.stderr)
        return 2
    if not os.path.isfile(argv[1]):
        print(f"No such report file: {argv[1]}", file=sys.stderr)
        return 2
    try:
        result = push(
            settings["ISMS_URL"].rstrip("/"),
            settings["ISMS_TOKEN"],
            settings["CONTROL_ID"],
            argv[1],
            datetime.date.today(),
        )
    except SystemExit as exc:
        print(exc, file=sys.stderr)
        return 1
    verb = "Already recorded" if result["replayed"] else "Recorded"
    print(f"{verb}: evidence {result['id']} ({result['title']}), SHA-256 {result['sha256']}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
