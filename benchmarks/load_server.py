"""The load test's moving parts outside Django: gunicorn (started, watched through /proc and its access log,
stopped), signing in over HTTP as a browser does, and wrk (run with a Lua script that counts every non-2xx
answer and prints its figures as one JSON line)."""

import http.cookiejar
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
ACCESS_RE = re.compile(r'"[A-Z]+ \S+ HTTP/[\d.]+" (\d{3}) ')

# wrk's Lua: count 2xx and other answers per thread, then print the run's figures as one JSON line.
WRK_SCRIPT = r"""
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) ok = 0; bad = 0 end
function response(status, headers, body)
  if status >= 200 and status < 300 then ok = ok + 1 else bad = bad + 1 end
end
function done(summary, latency, requests)
  local good, non2xx = 0, 0
  for _, t in ipairs(threads) do good = good + t:get("ok"); non2xx = non2xx + t:get("bad") end
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"bytes":%d,"ok":%d,"non2xx":%d,"connect":%d,"read":%d,' ..
    '"write":%d,"timeout":%d,"p50":%d,"p90":%d,"p95":%d,"p99":%d,"max":%d,"mean":%.1f}\n',
    summary.requests, summary.duration, summary.bytes, good, non2xx, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(95), latency:percentile(99),
    latency.max, latency.mean))
end
"""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ensure_wrk() -> str:
    """wrk's path; installs Debian's package when it is missing and we may (root with apt-get), else says how."""
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print("Installing wrk (apt-get install -y wrk)…", flush=True)
        done = subprocess.run(["apt-get", "install", "-y", "wrk"], capture_output=True)
        if done.returncode != 0:
            subprocess.run(["apt-get", "update"], capture_output=True)
            subprocess.run(["apt-get", "install", "-y", "wrk"], capture_output=True)
        found = shutil.which("wrk")
        if found:
            return found
    raise SystemExit(
        "make loadtest needs the load generator wrk: `sudo apt-get install wrk` (Debian/Ubuntu) or `brew install wrk`."
    )


# --- gunicorn ---------------------------------------------------------------------------------------------------


def _stat(pid: int) -> list[str]:
    """The fields of /proc/<pid>/stat after the command name (state first), or [] if there is no such process."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return []


def _children(pid: int) -> list[int]:
    try:
        return sorted(int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split())
    except OSError:
        return []


def _cpu_ticks(pid: int) -> int:
    """utime + stime of one process, in clock ticks (fields 14 and 15 of /proc/<pid>/stat)."""
    fields = _stat(pid)
    return int(fields[11]) + int(fields[12]) if fields else 0


def processes_cpu_seconds(pids) -> float:
    """CPU time (user + system) of these processes so far; 0 for one that is gone or not on this machine."""
    return sum(_cpu_ticks(pid) for pid in pids) / CLOCK_TICKS


def postmaster_of(backend_pid: int) -> int | None:
    """The PostgreSQL server process (a backend's parent), when the server runs on this machine."""
    fields = _stat(backend_pid)
    return int(fields[1]) if fields else None


def postgres_cpu_seconds(postmaster: int | None) -> float | None:
    """All the CPU PostgreSQL has used so far: the server process, the children it has reaped (ended backends,
    parallel workers) and those still running. None if it does not run here."""
    fields = _stat(postmaster) if postmaster else []
    if not fields:
        return None
    reaped = sum(int(v) for v in fields[11:15])  # utime, stime, cutime, cstime
    return reaped / CLOCK_TICKS + processes_cpu_seconds(_children(postmaster))


def machine_busy_seconds() -> float:
    """CPU time every core of the machine has spent busy so far (/proc/stat: all but idle and I/O wait)."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    except OSError:
        return 0.0
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in fields[:8])
    return (user + nice + system + irq + softirq + steal) / CLOCK_TICKS


def own_cpu_seconds() -> float:
    """This process's CPU time and that of its children that have ended (each wrk run)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


@dataclass
class Server:
    """A gunicorn master with its sync workers, bound to 127.0.0.1:port, its access log in a file."""

    process: subprocess.Popen
    port: int
    access_log: Path
    log: Path
    workers: list[int] = field(default_factory=list)
    _offset: int = 0
    _lines: int = 0
    _statuses: dict[str, int] = field(default_factory=dict)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def worker_pids(self) -> list[int]:
        return _children(self.process.pid)

    def cpu_seconds(self) -> float:
        """The workers' CPU time (user + system) so far, summed."""
        return processes_cpu_seconds(self.worker_pids())

    def master_cpu_seconds(self) -> float:
        return processes_cpu_seconds([self.process.pid])

    def access_count(self) -> tuple[int, dict[str, int]]:
        """Requests the workers have answered so far (access log lines) and how many of each status; reads only
        what was added since the last call."""
        try:
            with open(self.access_log, "rb") as f:
                f.seek(self._offset)
                chunk = f.read()
        except OSError:
            chunk = b""
        complete = chunk[: chunk.rfind(b"\n") + 1]
        self._offset += len(complete)
        for line in complete.decode(errors="replace").splitlines():
            match = ACCESS_RE.search(line)
            if match:
                self._lines += 1
                self._statuses[match.group(1)] = self._statuses.get(match.group(1), 0) + 1
        return self._lines, dict(self._statuses)

    def wait_idle(self, *, settle: float = 1.0, limit: float = 180.0) -> float:
        """Wait until the workers have finished what was queued (no new access-log line and no CPU used for
        `settle` seconds); the seconds it took."""
        began = time.monotonic()
        last = (self.access_count()[0], self.cpu_seconds())
        quiet_since = time.monotonic()
        while time.monotonic() - began < limit:
            time.sleep(0.25)
            now = (self.access_count()[0], self.cpu_seconds())
            if now != last:
                last, quiet_since = now, time.monotonic()
            elif time.monotonic() - quiet_since >= settle:
                break
        return time.monotonic() - began


def start_gunicorn(env: dict, tmp: Path, *, workers: int, timeout: int = 180) -> Server:
    """gunicorn as in production (deploy/gunicorn.conf.py: its access log and logger), on loopback only."""
    port = free_port()
    log_path, access = tmp / "gunicorn.log", tmp / "access.log"
    log = open(log_path, "wb")  # noqa: SIM115 - the child writes to it; closed when the server stops
    process = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "-c",
            str(ROOT / "deploy" / "gunicorn.conf.py"),
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--worker-class",
            "sync",
            "--timeout",
            str(timeout),
            "--access-logfile",
            str(access),
            "isms.wsgi:application",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=ROOT,
    )
    log.close()
    server = Server(process, port, access, log_path)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn stopped at start (exit {process.returncode}); see {log_path}")
        if len(server.worker_pids()) >= workers:
            try:
                with urllib.request.urlopen(f"{server.base}/healthz", timeout=5) as response:  # noqa: S310 - http on loopback
                    response.read()
                server.workers = server.worker_pids()
                return server
            except OSError:
                pass
        time.sleep(0.3)
    stop_gunicorn(server)
    raise RuntimeError(f"gunicorn did not answer within 90 s; see {log_path}")


def stop_gunicorn(server: Server) -> None:
    """SIGTERM (graceful), then SIGKILL after 20 s."""
    if server.process.poll() is not None:
        return
    server.process.send_signal(signal.SIGTERM)
    try:
        server.process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait(timeout=10)


# --- a browser's session ------------------------------------------------------------------------------------------


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


@dataclass
class Browser:
    """Cookies and an opener, as a browser keeps them; `cookie_header()` is what wrk sends."""

    base: str
    jar: http.cookiejar.CookieJar = field(default_factory=http.cookiejar.CookieJar)
    last_headers: dict = field(default_factory=dict)

    def _opener(self, follow: bool = True):
        handlers = [urllib.request.HTTPCookieProcessor(self.jar)]
        if not follow:
            handlers.append(_NoRedirect())
        return urllib.request.build_opener(*handlers)

    def get(self, path: str, *, follow: bool = True) -> tuple[int, str, bytes]:
        """(status, final path, body); the answer's headers are kept in `last_headers`."""
        try:
            with self._opener(follow).open(self.base + path, timeout=120) as response:
                self.last_headers = dict(response.headers.items())
                return response.status, urllib.parse.urlsplit(response.url).path, response.read()
        except urllib.error.HTTPError as exc:
            self.last_headers = dict(exc.headers.items())
            return exc.code, path, exc.read()

    def post_form(self, path: str, fields: dict) -> tuple[int, str, bytes]:
        """Post a form the way the page's own form does: the CSRF token from the page, the cookie alongside."""
        status, _, body = self.get(path)
        match = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body)
        if status != 200 or not match:
            raise RuntimeError(f"GET {path}: HTTP {status}, no CSRF token in the form")
        data = urllib.parse.urlencode({"csrfmiddlewaretoken": match.group(1).decode(), **fields}).encode()
        request = urllib.request.Request(self.base + path, data=data, headers={"Referer": self.base + path})  # noqa: S310
        try:
            with self._opener().open(request, timeout=120) as response:
                return response.status, urllib.parse.urlsplit(response.url).path, response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, path, exc.read()

    def cookie_header(self) -> str:
        return "; ".join(f"{c.name}={c.value}" for c in self.jar)

    def cookie(self, name: str) -> str | None:
        return next((c.value for c in self.jar if c.name == name), None)


def sign_in(base: str, login_path: str, username: str, password: str, *, code_path: str = "", code=None) -> Browser:
    """Through the real login form: GET it (CSRF cookie and token), POST the credentials, land on the dashboard; when
    the site asks for the second step (on `code_path`), type the authenticator's current code (`code()`) there."""
    browser = Browser(base)
    status, landed, _ = browser.post_form(login_path, {"username": username, "password": password})
    if code_path and landed == code_path and code is not None:
        status, landed, _ = browser.post_form(code_path, {"code": code()})
    if status != 200 or landed in (login_path, code_path) or not browser.cookie("sessionid"):
        raise RuntimeError(f"signing in as {username} failed: HTTP {status}, landed on {landed}")
    return browser


def open_task_link(base: str, link_path: str, token: str, task_path: str) -> Browser:
    """As the emailed link does: the page posts the token from the URL fragment, then shows the task."""
    browser = Browser(base)
    status, landed, _ = browser.post_form(link_path, {"token": token})
    if status != 200 or landed != task_path:
        raise RuntimeError(f"opening the task link failed: HTTP {status}, landed on {landed}")
    return browser


# --- wrk ----------------------------------------------------------------------------------------------------------


def run_wrk(
    wrk: str, url: str, cookie: str, *, duration: float, connections: int, threads: int, timeout: int, script: Path
) -> dict:
    """One wrk run; its JSON figures (latencies in µs)."""
    if not script.exists():
        script.write_text(WRK_SCRIPT)
    command = [
        wrk,
        f"-t{threads}",
        f"-c{connections}",
        f"-d{duration:g}s",
        f"--timeout={timeout}s",
        "-s",
        str(script),
        "-H",
        f"Cookie: {cookie}",
        url,
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=duration + timeout + 60)
    for line in done.stdout.splitlines():
        if line.startswith("WRKJSON "):
            return json.loads(line[len("WRKJSON ") :])
    raise RuntimeError(f"wrk gave no figures (exit {done.returncode}): {done.stdout[-500:]} {done.stderr[-500:]}")


def wrk_version(wrk: str) -> str:
    done = subprocess.run([wrk, "--version"], capture_output=True, text=True)
    match = re.search(r"wrk (\S+)", done.stdout + done.stderr)
    return match.group(1) if match else "?"
