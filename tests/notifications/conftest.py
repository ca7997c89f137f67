"""Fixtures for mail: a real SMTP server (aiosmtpd) on a free port, people to write to, a wall clock."""
from __future__ import annotations

import datetime as dt
import threading
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller

from tests.helpers import HttpReceiver, free_port
from tracker import clock
from tracker.auth.models import Role


class Inbox:
    """An aiosmtpd handler that keeps what it receives and can refuse chosen recipients."""

    def __init__(self):
        self.messages = []        # email.message.EmailMessage, as received
        self.envelopes = []       # (mail_from, [rcpt_tos])
        self.refuse: set[str] = set()
        self._lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self._lock:
            self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list:
        return [m for m in self.messages if address in m["To"]]

    def keys(self) -> list[str]:
        return [m["X-Rectify-Key"] for m in self.messages]


@pytest.fixture
def mail_log(app, tmp_path, monkeypatch):
    """Without a mail server, messages go to this file."""
    path = tmp_path / "mail.log"
    monkeypatch.setitem(app.config, "MAIL_LOG", str(path))
    monkeypatch.setitem(app.config, "MAIL_DIR", str(tmp_path / "mail"))
    monkeypatch.setitem(app.config, "MAIL_SERVER", None)
    return path


@pytest.fixture
def smtp_server(app, monkeypatch, tmp_path):
    """A real SMTP server on a free port; the app is configured to send through it."""
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", controller.port)
    monkeypatch.setitem(app.config, "MAIL_TIMEOUT", 5)
    monkeypatch.setitem(app.config, "MAIL_LOG", str(tmp_path / "unused.log"))
    inbox.controller = controller
    yield inbox
    controller.stop()


@pytest.fixture
def people(make):
    """A lead unit with its head and a staff owner, a coordinator, an inspector and a leader.
    They read English, so that tests can check the wording (one test checks the Chinese)."""
    unit = make.unit("县教育局人事股")
    return {
        "unit": unit,
        "owner": make.user(Role.STAFF, unit=unit, name="李联络", language="en"),
        "head": make.user(Role.HEAD, unit=unit, name="王股长", language="en"),
        "admin": make.user(Role.ADMIN, name="整改办", language="en"),
        "inspector": make.user(Role.INSPECTOR, name="赵督学", language="en"),
        "leader": make.user(Role.LEADER, name="钱县长", language="en"),
    }


class WallClock:
    """The real clock (clock.real_now, used by leases), controllable: starts at the system time
    and moves only when the test moves it."""

    def __init__(self):
        self.now = dt.datetime.now(dt.timezone.utc)
        clock.set_real_source(lambda: self.now)

    def move(self, **delta) -> None:
        self.now += dt.timedelta(**delta)


@pytest.fixture
def wall():
    return WallClock()


@pytest.fixture
def robot(app, monkeypatch):
    """A DingTalk-like group robot on a loopback port, checking the signature made with its secret."""
    receiver = HttpReceiver(secret="SEC-test-secret")
    monkeypatch.setitem(app.config, "ROBOT_TIMEOUT", 1)
    yield receiver
    receiver.stop()


@pytest.fixture
def sms_gateway(app, monkeypatch):
    """An SMS gateway on a loopback port; the app sends through it (POST form: mobile, content)."""
    receiver = HttpReceiver(success={"code": 0, "msg": "ok"}, refusal={"code": 40001, "msg": "number blacklisted"})
    monkeypatch.setitem(app.config, "SMS_GATEWAY_URL", receiver.url("/sms/send"))
    monkeypatch.setitem(app.config, "SMS_TIMEOUT", 1)
    yield receiver
    receiver.stop()
