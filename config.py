"""Configuration classes; every deployment setting comes from the environment."""
import datetime as dt
import os
import secrets
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = BASE_DIR / "instance"


def _bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int) -> int:
    try:
        return int(os.environ.get(name, default))
    except ValueError:
        return default


def _secret_key() -> str:
    """SECRET_KEY from the environment, else a random key kept in instance/ (single-machine default)."""
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    path = INSTANCE_DIR / "secret_key"
    if not path.exists():
        INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


class Config:
    SECRET_KEY = _secret_key()
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL") or (
        f"sqlite:///{INSTANCE_DIR / 'rectify.sqlite3'}"
    )
    # pre-ping: a connection the database dropped (a restart, pg_terminate_backend) is replaced on
    # the next checkout, so the app recovers without a restart.
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    # How long a statement waits for a row lock (PostgreSQL lock_timeout, SQLite busy timeout) and
    # how long any statement may run (PostgreSQL statement_timeout; 0 = no limit). A request that
    # hits either gets a "busy, try again" page and nothing is saved.
    DB_LOCK_TIMEOUT_MS = _int("DB_LOCK_TIMEOUT_MS", 10000)
    DB_STATEMENT_TIMEOUT_MS = _int("DB_STATEMENT_TIMEOUT_MS", 0)
    UPLOAD_DIR = os.environ.get("UPLOAD_DIR") or str(INSTANCE_DIR / "uploads")
    # Evidence limits: per file, per request (Flask refuses larger bodies with 413), and for ZIPs
    # (entry count, expansion ratio and total expanded size, against ZIP bombs).
    UPLOAD_MAX_FILE_MB = _int("UPLOAD_MAX_FILE_MB", 50)
    UPLOAD_MAX_REQUEST_MB = _int("UPLOAD_MAX_REQUEST_MB", 200)
    MAX_CONTENT_LENGTH = UPLOAD_MAX_REQUEST_MB * 1024 * 1024
    ZIP_MAX_ENTRIES = _int("ZIP_MAX_ENTRIES", 1000)
    ZIP_MAX_RATIO = _int("ZIP_MAX_RATIO", 100)
    ZIP_MAX_TOTAL_MB = _int("ZIP_MAX_TOTAL_MB", 1024)

    MAIL_SERVER = os.environ.get("MAIL_SERVER") or None
    MAIL_PORT = _int("MAIL_PORT", 25)
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME") or None
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD") or None
    MAIL_USE_TLS = _bool("MAIL_USE_TLS")
    MAIL_DEFAULT_SENDER = os.environ.get("MAIL_DEFAULT_SENDER") or "rectify@localhost"
    # Links in mail: where `make run`/`make serve` listen (PORT) unless the deployment says otherwise.
    BASE_URL = (os.environ.get("BASE_URL") or f"http://127.0.0.1:{_int('PORT', 5000)}").rstrip("/")
    TRACKER_TIMEZONE = os.environ.get("TRACKER_TIMEZONE") or "Asia/Shanghai"
    # Tests of several processes only: this process runs that many seconds ahead of the system clock.
    CLOCK_OFFSET_SECONDS = _int("CLOCK_OFFSET_SECONDS", 0)
    # The issuing office named on the papers (督办单), e.g. "新源县人民政府教育督导室".
    OFFICE_NAME = os.environ.get("OFFICE_NAME") or None
    # A folder of the office's own Word templates (supervision_notice.docx, progress_report.docx,
    # circular.docx); a name missing there falls back to templates/documents/.
    DOCUMENT_TEMPLATE_DIR = os.environ.get("DOCUMENT_TEMPLATE_DIR") or None
    NOTICE_REPLY_DAYS = _int("NOTICE_REPLY_DAYS", 7)   # default reply deadline of a 督办单

    # Traffic light: days before the deadline that turn an item yellow, how far
    # (in percentage points) progress may lag the elapsed time, and after how
    # many days without a progress update an item counts as stale.
    WARNING_DAYS = _int("WARNING_DAYS", 7)
    PROGRESS_TOLERANCE = _int("PROGRESS_TOLERANCE", 10)
    STALE_DAYS = _int("STALE_DAYS", 30)
    ITEMS_PER_PAGE = _int("ITEMS_PER_PAGE", 25)
    # The unit's own sign-off (单位负责人审核): a staff member's submission for closure goes to the
    # unit's head first. On by default; each unit may be exempted on its admin form.
    UNIT_SIGNOFF = _bool("UNIT_SIGNOFF", True)

    # Reminders and digests (see tracker/notifications/): days before a deadline to remind,
    # the overdue cadence, escalation after M days overdue, days allowed to acknowledge receipt.
    REMINDER_OFFSETS = tuple(int(d) for d in (os.environ.get("REMINDER_OFFSETS") or "7,3,1").split(",") if d.strip())
    OVERDUE_EVERY_DAYS = _int("OVERDUE_EVERY_DAYS", 3)
    ESCALATE_AFTER_DAYS = _int("ESCALATE_AFTER_DAYS", 7)
    ACKNOWLEDGE_DAYS = _int("ACKNOWLEDGE_DAYS", 3)
    SCAN_HOUR = _int("SCAN_HOUR", 7)                       # local hour of the daily deadline scan
    DIGEST_DAY = os.environ.get("DIGEST_DAY") or "mon"     # weekday of the weekly digest
    DIGEST_HOUR = _int("DIGEST_HOUR", 8)
    OUTBOX_MAX_ATTEMPTS = _int("OUTBOX_MAX_ATTEMPTS", 8)
    LEASE_SECONDS = _int("LEASE_SECONDS", 120)             # a job's lease, renewed while it runs
    MAIL_MAX_PER_MINUTE = _int("MAIL_MAX_PER_MINUTE", 0)   # relay rate limit per scheduler; 0: none
    OUTBOX_TIME_BUDGET = _int("OUTBOX_TIME_BUDGET", 50)    # seconds one outbox run may send for
    MAIL_TIMEOUT = _int("MAIL_TIMEOUT", 30)
    MAIL_LOG = os.environ.get("MAIL_LOG") or str(INSTANCE_DIR / "mail.log")  # used when no MAIL_SERVER
    # Without a MAIL_SERVER each message is also kept whole, one .eml file per message, to open.
    MAIL_DIR = os.environ.get("MAIL_DIR") or str(INSTANCE_DIR / "mail")
    # Event notices (交办, 退回, ...): a person's notices of this many minutes go out as one message.
    NOTICE_WINDOW_MINUTES = _int("NOTICE_WINDOW_MINUTES", 10)
    # Group robots and SMS (tracker/notifications/channels.py, gateways.py). SMS and robot messages
    # due in the quiet hours (local "HH:MM-HH:MM"; empty: none) wait until they end; mail does not.
    QUIET_HOURS = os.environ.get("QUIET_HOURS", "21:00-08:00")
    ROBOT_MAX_PER_MINUTE = _int("ROBOT_MAX_PER_MINUTE", 20)   # per robot, across every sender process
    ROBOT_TIMEOUT = _int("ROBOT_TIMEOUT", 10)
    # The deployment's SMS provider: an HTTP gateway. No URL: no SMS is queued.
    SMS_GATEWAY_URL = os.environ.get("SMS_GATEWAY_URL") or None
    SMS_METHOD = (os.environ.get("SMS_METHOD") or "POST").upper()       # GET (query) or POST
    SMS_BODY = (os.environ.get("SMS_BODY") or "form").lower()           # POST body: form or json
    SMS_PARAM_MOBILE = os.environ.get("SMS_PARAM_MOBILE") or "mobile"
    SMS_PARAM_TEXT = os.environ.get("SMS_PARAM_TEXT") or "content"
    SMS_EXTRA_PARAMS = os.environ.get("SMS_EXTRA_PARAMS") or ""         # fixed ones, "appid=..&tpl=.."
    SMS_SIGN_NAME = os.environ.get("SMS_SIGN_NAME") or ""               # 短信签名: text starts with 【it】
    SMS_SECRET = os.environ.get("SMS_SECRET") or None                   # HMAC-SHA256 request signature
    SMS_PARAM_TIMESTAMP = os.environ.get("SMS_PARAM_TIMESTAMP") or "timestamp"
    SMS_PARAM_SIGNATURE = os.environ.get("SMS_PARAM_SIGNATURE") or "sign"
    # The answer's JSON field and value meaning success (empty field: any 2xx status is success).
    SMS_SUCCESS_FIELD = os.environ.get("SMS_SUCCESS_FIELD", "code")
    SMS_SUCCESS_VALUE = os.environ.get("SMS_SUCCESS_VALUE", "0")
    SMS_TIMEOUT = _int("SMS_TIMEOUT", 10)
    # One template per kind of message: {name} {title} {unit} {days} {deadline} {number} {count} {url}.
    SMS_TEMPLATE_REMINDER = os.environ.get("SMS_TEMPLATE_REMINDER") or (
        "{name}您好：整改事项“{title}”已逾期{days}天（期限{deadline}），这是第{number}次催办，请尽快办理。{url}")
    SMS_TEMPLATE_ESCALATION = os.environ.get("SMS_TEMPLATE_ESCALATION") or (
        "{name}您好：整改事项“{title}”已逾期{days}天（期限{deadline}），已升级督办，请立即办理。{url}")
    SMS_TEMPLATE_SUPERVISION = os.environ.get("SMS_TEMPLATE_SUPERVISION") or (
        "{name}您好：整改事项“{title}”已被挂牌督办（期限{deadline}），请按期办结。{url}")
    SMS_TEMPLATE_MANY = os.environ.get("SMS_TEMPLATE_MANY") or (
        "{name}您好：您有{count}项整改事项逾期未办结，请登录整改通尽快办理。{url}")
    # Ledger import (tracker/reports/): where uploads wait between preview and confirmation, and limits.
    IMPORT_DIR = os.environ.get("IMPORT_DIR") or str(INSTANCE_DIR / "imports")
    IMPORT_MAX_MB = _int("IMPORT_MAX_MB", 10)
    IMPORT_MAX_ROWS = _int("IMPORT_MAX_ROWS", 2000)
    # An imported 立行立改 (immediate) item is due this many days after the import.
    IMPORT_IMMEDIATE_DAYS = _int("IMPORT_IMMEDIATE_DAYS", 15)

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    # Served over HTTPS (PREFERRED_URL_SCHEME=https): cookies are sent over HTTPS only.
    PREFERRED_URL_SCHEME = os.environ.get("PREFERRED_URL_SCHEME") or "http"
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", PREFERRED_URL_SCHEME == "https")
    REMEMBER_COOKIE_HTTPONLY = True
    # A sign-in lasts this long (cookie and server-side session), then the user signs in again.
    PERMANENT_SESSION_LIFETIME = dt.timedelta(minutes=_int("SESSION_LIFETIME_MINUTES", 8 * 60))
    # The lifetime counts from the sign-in (the server-side row's created_at), not from the last
    # request, so re-signing the unchanged cookie on every response would only cost time.
    SESSION_REFRESH_EACH_REQUEST = False
    # Number of reverse proxies in front whose X-Forwarded-For/-Proto to trust (0: none).
    PROXY_COUNT = _int("PROXY_COUNT", 0)

    # Rate limits (Flask-Limiter syntax). Counted in a file on this machine by default, shared by
    # every worker (tracker/ratelimits.py); several hosts share a Redis:
    # RATELIMIT_STORAGE_URI=redis://127.0.0.1:6379/0.
    RATELIMIT_STORAGE_URI = (os.environ.get("RATELIMIT_STORAGE_URI")
                             or f"sqlitefile://{INSTANCE_DIR / 'ratelimits.sqlite3'}")
    RATELIMIT_HEADERS_ENABLED = True
    # The dashboard's numbers and the filter lists are kept in each process; with several workers
    # or hosts a shared Redis keeps them once for all: CACHE_REDIS_URL=redis://127.0.0.1:6379/1.
    CACHE_REDIS_URL = os.environ.get("CACHE_REDIS_URL") or None
    # Sign-in attempts per address and username (a brute force on one account from one address),
    # and per address whatever the username (a sweep over many accounts).
    LOGIN_RATE_LIMIT = os.environ.get("LOGIN_RATE_LIMIT") or "10 per 5 minutes;30 per hour"
    LOGIN_ADDRESS_RATE_LIMIT = os.environ.get("LOGIN_ADDRESS_RATE_LIMIT") or "100 per hour"
    # Wrong current passwords on /profile/password, per user: a stolen session cannot guess it.
    PASSWORD_CHECK_RATE_LIMIT = os.environ.get("PASSWORD_CHECK_RATE_LIMIT") or "10 per 15 minutes"
    API_RATE_LIMIT = os.environ.get("API_RATE_LIMIT") or "300 per minute"            # per token
    API_ADDRESS_RATE_LIMIT = os.environ.get("API_ADDRESS_RATE_LIMIT") or "1200 per minute"  # per address
    API_MAX_JSON_KB = _int("API_MAX_JSON_KB", 256)  # larger JSON bodies are refused with 413
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session

    BABEL_DEFAULT_LOCALE = "zh_CN"
    BABEL_DEFAULT_TIMEZONE = TRACKER_TIMEZONE
    LANGUAGES = ("zh_CN", "en")


class ProductionConfig(Config):
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", True)


class TestConfig(Config):
    TESTING = True
    SECRET_KEY = "test-secret"
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL") or "sqlite://"
    MAIL_SERVER = None
    # Deliberately cheap hashing so that hundreds of test sign-ins stay fast.
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"
    # Limits stay on but out of reach; tests of the limits set tiny ones (tests/auth/test_rate_limits.py).
    RATELIMIT_STORAGE_URI = "memory://"
    LOGIN_RATE_LIMIT = LOGIN_ADDRESS_RATE_LIMIT = API_RATE_LIMIT = API_ADDRESS_RATE_LIMIT = "100000 per minute"
    PASSWORD_CHECK_RATE_LIMIT = "100000 per minute"


def config_for_environment():
    """Pick the config class named by FLASK_ENV-like RECTIFY_CONFIG (default: Config)."""
    name = os.environ.get("RECTIFY_CONFIG", "").lower()
    return {"production": ProductionConfig, "test": TestConfig}.get(name, Config)
