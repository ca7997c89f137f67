"""Real processes of the app (scheduler, outbox sender, gunicorn) for tests, pointed at the test
database, with their output collected so a test can wait for a line instead of sleeping."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def app_environment(app, **extra) -> dict[str, str]:
    """The environment a production process would have, for the test app's database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MAIL_", "RECTIFY_"))}
    env.update(DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"], SECRET_KEY="test-secret",
               UPLOAD_DIR=app.config["UPLOAD_DIR"], MAIL_LOG=app.config["MAIL_LOG"], MAIL_DIR=app.config["MAIL_DIR"],
               PYTHONUNBUFFERED="1")
    if app.config.get("MAIL_SERVER"):
        env.update(MAIL_SERVER=app.config["MAIL_SERVER"], MAIL_PORT=str(app.config["MAIL_PORT"]))
    env.update({k: str(v) for k, v in extra.items()})
    return env


class Process:
    """A child process whose output (stdout and stderr together) is read as it comes."""

    def __init__(self, args: list[str], env: dict[str, str]):
        self.popen = subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                      stderr=subprocess.STDOUT, text=True)
        self.lines: list[str] = []
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    @classmethod
    def flask(cls, env: dict[str, str], *command: str) -> Process:
        return cls([sys.executable, "-m", "flask", "--app", "wsgi", *command], env)

    def _read(self) -> None:
        for line in self.popen.stdout:
            with self._changed:
                self.lines.append(line)
                self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    @property
    def output(self) -> str:
        with self._changed:
            return "".join(self.lines)

    def wait_for(self, text: str, timeout: float = 30) -> None:
        """Block until the process prints `text` (or fail when it exits or the time is up)."""
        def seen():
            return any(text in line for line in self.lines) or self.popen.poll() is not None
        with self._changed:
            self._changed.wait_for(seen, timeout)
            if not any(text in line for line in self.lines):
                raise AssertionError(f"{text!r} not printed; output:\n{''.join(self.lines)}")

    def wait(self, timeout: float = 60) -> int:
        code = self.popen.wait(timeout)
        self._reader.join(timeout)
        return code

    def terminate(self) -> None:
        """SIGTERM, as systemd or gunicorn's supervisor would send."""
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)

    def close(self) -> None:
        if self.popen.poll() is None:
            self.popen.kill()
        self.popen.wait(30)
        self._reader.join(30)
        self.popen.stdout.close()
