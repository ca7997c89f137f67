"""Talking HTTP to the group robots (DingTalk, WeCom) and to the deployment's SMS gateway, and
when a message may go: the quiet hours, and each robot's messages a minute.

Each call either returns (the service took the message) or raises DeliveryError with the
service's own words, which the outbox keeps as the message's last error and retries with backoff.
A robot answers HTTP 200 even when it refuses: its JSON `errcode` must be 0 as well.
"""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import logging
import urllib.error
import urllib.parse
import urllib.request

from flask import current_app
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from tracker import clock
from tracker.extensions import db
from tracker.notifications.models import RobotQuota
from tracker.units.models import RobotKind

log = logging.getLogger(__name__)

ANSWER_MAX = 64 * 1024  # bytes of an answer read (a robot's answer is a few dozen)


class DeliveryError(Exception):
    """The service refused the message or could not be reached; the outbox retries it."""


def dingtalk_signed(webhook: str, secret: str, timestamp_ms: int) -> str:
    """The webhook with DingTalk's `timestamp` and `sign` (HMAC-SHA256 of "timestamp\\nsecret" keyed
    by the secret, base64, URL-encoded), as DingTalk documents for robots with 加签."""
    to_sign = f"{timestamp_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode(), to_sign, hashlib.sha256).digest()
    sign = urllib.parse.quote_plus(base64.b64encode(digest).decode())
    return _with_query(webhook, f"timestamp={timestamp_ms}&sign={sign}")


def _with_query(url: str, query: str) -> str:
    return f"{url}{'&' if urllib.parse.urlsplit(url).query else '?'}{query}"


def robot_payload(kind: RobotKind, title: str, text: str) -> dict:
    """The markdown message in the robot's format."""
    if kind == RobotKind.DINGTALK:
        return {"msgtype": "markdown", "markdown": {"title": title, "text": text}}
    return {"msgtype": "markdown", "markdown": {"content": f"**{title}**\n\n{text}"}}


def _exchange(request: urllib.request.Request, timeout: float, service: str) -> bytes:
    """Send the request; the body of a 2xx answer, else DeliveryError."""
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:   # noqa: S310 (checked scheme)
            return answer.read(ANSWER_MAX)
    except urllib.error.HTTPError as exc:
        body = exc.read(500).decode("utf-8", "replace")
        raise DeliveryError(f"{service} answered HTTP {exc.code}: {body.strip()[:300]}") from exc
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise DeliveryError(f"cannot reach the {service}: {reason}") from exc


def _json(body: bytes, service: str):
    try:
        return json.loads(body)
    except ValueError as exc:
        raise DeliveryError(f"the {service} answered something else than JSON: {body[:200]!r}") from exc


def post_robot(kind: RobotKind, webhook: str, secret: str | None, title: str, text: str) -> None:
    """Hand one markdown message to a unit's group robot."""
    url = webhook
    if kind == RobotKind.DINGTALK and secret:
        url = dingtalk_signed(webhook, secret, int(clock.real_now().timestamp() * 1000))
    request = urllib.request.Request(url, data=json.dumps(robot_payload(kind, title, text)).encode(),
                                     headers={"Content-Type": "application/json; charset=utf-8"}, method="POST")
    answer = _json(_exchange(request, current_app.config["ROBOT_TIMEOUT"], "robot"), "robot")
    errcode = answer.get("errcode") if isinstance(answer, dict) else None
    if errcode != 0:
        raise DeliveryError(f"the robot refused the message: errcode {errcode}: {answer.get('errmsg', '')}"
                            if isinstance(answer, dict) else f"the robot answered {answer!r}")


def _sms_params(mobile: str, text: str) -> dict[str, str]:
    cfg = current_app.config
    params = dict(urllib.parse.parse_qsl(cfg["SMS_EXTRA_PARAMS"], keep_blank_values=True))
    params[cfg["SMS_PARAM_MOBILE"]] = mobile
    params[cfg["SMS_PARAM_TEXT"]] = text
    if cfg["SMS_SECRET"]:
        # The request's signature: HMAC-SHA256 (hex) of "timestamp\nmobile\ntext", keyed by the secret.
        timestamp = str(int(clock.real_now().timestamp()))
        to_sign = f"{timestamp}\n{mobile}\n{text}".encode()
        params[cfg["SMS_PARAM_TIMESTAMP"]] = timestamp
        params[cfg["SMS_PARAM_SIGNATURE"]] = hmac.new(cfg["SMS_SECRET"].encode(), to_sign, hashlib.sha256).hexdigest()
    return params


def sms_text(text: str) -> str:
    """The text as sent: with the 短信签名 in front when one is configured."""
    sign_name = current_app.config["SMS_SIGN_NAME"]
    return f"【{sign_name}】{text}" if sign_name and not text.startswith("【") else text


def send_sms(mobile: str, text: str) -> None:
    """Hand one text message to the SMS gateway."""
    cfg = current_app.config
    url = cfg["SMS_GATEWAY_URL"]
    if not url:
        raise DeliveryError("no SMS gateway is configured (SMS_GATEWAY_URL)")
    params = _sms_params(mobile, sms_text(text))
    if cfg["SMS_METHOD"] == "GET":
        request = urllib.request.Request(_with_query(url, urllib.parse.urlencode(params)), method="GET")
    elif cfg["SMS_BODY"] == "json":
        request = urllib.request.Request(url, data=json.dumps(params, ensure_ascii=False).encode(), method="POST",
                                         headers={"Content-Type": "application/json; charset=utf-8"})
    else:
        request = urllib.request.Request(url, data=urllib.parse.urlencode(params).encode(), method="POST",
                                         headers={"Content-Type": "application/x-www-form-urlencoded"})
    body = _exchange(request, cfg["SMS_TIMEOUT"], "SMS gateway")
    field = cfg["SMS_SUCCESS_FIELD"]
    if not field:
        return
    answer = _json(body, "SMS gateway")
    value = answer.get(field) if isinstance(answer, dict) else None
    if str(value) != cfg["SMS_SUCCESS_VALUE"]:
        raise DeliveryError(f"the SMS gateway refused the message: {field}={value}: "
                            f"{json.dumps(answer, ensure_ascii=False)[:300]}")


# -- when a message may go ----------------------------------------------------------------

def _quiet_hours() -> tuple[dt.time, dt.time] | None:
    spec = (current_app.config["QUIET_HOURS"] or "").strip()
    if not spec:
        return None
    try:
        start, end = (dt.time.fromisoformat(part.strip()) for part in spec.split("-"))
    except ValueError:
        log.warning("QUIET_HOURS=%r is not HH:MM-HH:MM: no quiet hours", spec)
        return None
    return (start, end) if start != end else None


def quiet_wait(moment: dt.datetime) -> dt.timedelta | None:
    """How long a robot or SMS message due at `moment` waits for the quiet hours (default
    21:00-08:00 local) to end, or None outside them."""
    hours = _quiet_hours()
    if hours is None:
        return None
    start, end = hours
    local = moment.astimezone(clock.tz())
    at = local.time().replace(tzinfo=None)
    if start < end:
        inside, end_day = start <= at < end, local.date()
    else:   # over midnight
        inside = at >= start or at < end
        end_day = local.date() + dt.timedelta(days=1) if at >= start else local.date()
    if not inside:
        return None
    return dt.datetime.combine(end_day, end, tzinfo=clock.tz()) - local


def take_robot_slot(webhook: str) -> dt.timedelta | None:
    """Count one message to this robot, or say how long until it may take one more (it takes
    ROBOT_MAX_PER_MINUTE a minute). Counted in the database, so that every sender process, on any
    host, counts against the same minute; commits (the count must be seen before the message goes)."""
    limit = current_app.config["ROBOT_MAX_PER_MINUTE"]
    if limit <= 0:
        return None
    key = hashlib.sha1(webhook.encode()).hexdigest()
    now = clock.real_now().timestamp()
    _lock_quota(key)
    recent = [float(t) for t in (db.session.scalar(select(RobotQuota.recent).where(RobotQuota.robot == key))
                                 or "").split(",") if t and float(t) > now - 60]
    if len(recent) >= limit:
        db.session.rollback()   # releases the lock; nothing to keep
        return dt.timedelta(seconds=max(recent[len(recent) - limit] + 60 - now, 1))
    recent = (recent + [now])[-limit:]
    db.session.execute(update(RobotQuota).where(RobotQuota.robot == key).values(
        recent=",".join(f"{t:.3f}" for t in recent)).execution_options(synchronize_session=False))
    db.session.commit()
    return None


def _lock_quota(key: str) -> None:
    """Hold the robot's quota row until the commit: an UPDATE locks the row on PostgreSQL and the
    database on SQLite, so two senders never read the same count. Creates the row the first time."""
    for _attempt in range(3):
        locked = db.session.execute(update(RobotQuota).where(RobotQuota.robot == key)
                                    .values(recent=RobotQuota.recent).execution_options(synchronize_session=False))
        if locked.rowcount == 1:
            return
        try:
            db.session.execute(insert(RobotQuota).values(robot=key, recent=""))
            db.session.commit()
        except IntegrityError:   # another sender created it a moment ago
            db.session.rollback()
    raise RuntimeError("robot quota row cannot be locked")
