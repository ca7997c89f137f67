"""gunicorn settings for Rectify in production (`make serve`, deploy/rectify-web.service, Procfile).

Every setting can be overridden from the environment: PORT, HOST, WEB_CONCURRENCY (workers),
GUNICORN_THREADS, GUNICORN_TIMEOUT, GUNICORN_GRACEFUL_TIMEOUT, FORWARDED_ALLOW_IPS.

Graceful shutdown: on SIGTERM the master stops accepting connections and each worker finishes the
request it is serving (up to graceful_timeout seconds) before it exits, so no request in flight is
lost. A request's database work is one transaction committed before the response, so a worker
killed after graceful_timeout loses only an uncommitted transaction, which the user sees as an
error and can repeat. Mail never depends on a web worker: it is written to the outbox in the same
transaction and sent by the scheduler process.
"""
import multiprocessing
import os
import sys

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY") or min(2 * multiprocessing.cpu_count() + 1, 8))
# Threads per worker (gunicorn's gthread worker): a save waiting on a row lock holds one thread, not
# the worker, so the health check and reads keep answering while writes wait.
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
# Long enough for a 200 MB upload from a slow county network behind the proxy's buffering.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "120"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
keepalive = 5
# Recycle workers now and then (memory growth); the jitter keeps them from restarting together.
max_requests = 2000
max_requests_jitter = 200
# Each worker opens its own database connections after the fork; nothing is shared.
preload_app = False
accesslog = "-"
errorlog = "-"
# Trust X-Forwarded-* only from the reverse proxy (nginx on the same host by default).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
proc_name = "rectify-web"


def on_starting(server):
    """Refuse to start with a database that cannot be reached, and say why (not a worker crash loop)."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from config import config_for_environment
    from tracker.database import check_connection
    problem = check_connection(config_for_environment().SQLALCHEMY_DATABASE_URI)
    if problem:
        server.log.error("%s", problem)
        sys.exit(1)


def post_worker_init(worker):
    """Exempt what loading the app made (modules, models, the templates' code) from the garbage
    collector: a full collection, which a request creating a few thousand objects can set off,
    then walks only what requests created, not the whole application (gc.freeze)."""
    import gc
    gc.freeze()
