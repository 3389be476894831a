"""`make run`: migrate, load the demo, then run web, Celery worker and Celery beat until Ctrl-C.

A lock file in the data directory stops a second copy from running against the same data."""

import fcntl
import os
import signal
import socket
import subprocess
import sys
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from isms.foundation.pdf import pdf_engine_problem
from isms.web.demo import DEMO_USERS


class Command(BaseCommand):
    help = "Run the whole app for development: web server, Celery worker and beat, with the demo loaded."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", 8000)))
        parser.add_argument("--no-demo", action="store_true", help="Do not load the demo organisation.")

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("runstack is for development: set DEBUG=1 (make run does).")
        port = options["port"]
        # Everything written from here on, by this process and the web, worker and beat it starts (mail with live
        # task links, evidence, the database), is readable by its owner only.
        os.umask(0o077)
        settings.DATA_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)
        lock = self._lock()
        if _port_taken(port):
            raise CommandError(f"Port {port} on 127.0.0.1 is already in use. Free it or run: PORT=8001 make run")

        problem = pdf_engine_problem()
        if problem:  # everything else works; say it once, in one line, instead of failing on the first PDF
            self.stderr.write(self.style.WARNING(problem))
        call_command("migrate", interactive=False, verbosity=0)
        if not options["no_demo"]:
            call_command("load_demo")

        python = sys.executable
        commands = {
            "web": [python, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
            "worker": [python, "-m", "celery", "-A", "isms", "worker", "--loglevel", "INFO", "--concurrency", "2"],
            "beat": [python, "-m", "celery", "-A", "isms", "beat", "--loglevel", "INFO"],
        }
        # `kill` (SIGTERM) stops everything as cleanly as Ctrl-C does.
        signal.signal(signal.SIGTERM, _interrupt)
        procs = {name: subprocess.Popen(cmd, cwd=settings.BASE_DIR) for name, cmd in commands.items()}
        self._banner(port)
        try:
            while True:
                for name, proc in procs.items():
                    if proc.poll() is not None:
                        raise CommandError(
                            f"The {name} process stopped (exit code {proc.returncode}); stopping the rest."
                        )
                time.sleep(0.5)
        except KeyboardInterrupt:
            self.stdout.write("\nStopping web, worker and beat…")
        finally:
            _stop(procs.values())
            lock.close()
        self.stdout.write(self.style.SUCCESS("Stopped."))

    def _lock(self):
        path = settings.DATA_DIR / "run.lock"
        handle = open(path, "a+")  # noqa: SIM115 - held open for the life of the process
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            pid = handle.read().strip() or "unknown"
            raise CommandError(
                f"`make run` is already running (pid {pid}) with the data in {settings.DATA_DIR}. "
                "Stop it with Ctrl-C first, or give this one its own data: ISMS_DATA_DIR=/tmp/isms2 PORT=8001 make run"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        return handle

    def _banner(self, port: int) -> None:
        logins = "\n".join(f"    {u[0]:<11} {u[3].label}" for u in DEMO_USERS)
        self.stdout.write(
            self.style.SUCCESS(f"\n  ISMS tracker is running at http://127.0.0.1:{port}/\n")
            + f"  Demo logins (password: {settings.DEMO_PASSWORD}):\n{logins}\n"
            + _two_step_line()
            + f"  Outgoing mail is written to {settings.DATA_DIR / 'mail'}/\n"
            + "  Press Ctrl-C to stop web, worker and beat.\n"
        )


def _two_step_line() -> str:
    """Whether the demo logins need a code after the password (MFA_REQUIRED_ROLES; empty in development)."""
    if not settings.MFA_REQUIRED_ROLES:
        return (
            "  Two-step sign-in is required of nobody here (MFA_REQUIRED_ROLES is empty):\n"
            "  the demo logins work with the password alone; anyone may turn it on from their account menu.\n"
        )
    return f"  Two-step sign-in is required for: {', '.join(settings.MFA_REQUIRED_ROLES)} (MFA_REQUIRED_ROLES).\n"


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def _port_taken(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _stop(procs) -> None:
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 10
    for proc in procs:
        try:
            proc.wait(timeout=max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            proc.kill()
