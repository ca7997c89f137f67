"""Measure Rectify over a generated database (bench/generate.py): pages through gunicorn, jobs in process.

    DATABASE_URL=sqlite:////tmp/rectify-bench.sqlite3 UPLOAD_DIR=/tmp/rectify-bench-uploads \
        .venv/bin/python bench/run.py --meta instance/bench-meta.json

Serves the app with gunicorn (1 worker, then 4) on a loopback port, signs in through /login like a
browser, warms up, then sends a fixed number of requests per page at concurrency 1 and 8 with a
small threaded http.client load generator, and reports p50/p95/p99, throughput and each page's
ratio to the trivial route (/healthz). `--pace 10` sends each page's requests from one signed-in
client at ten a second instead. `--writer` measures every page a second time while bench/writer.py
posts progress, transitions and evidence through the API (`--writes-per-second`, default 1), and
reports the two side by side with what the writer did and the rows it added. Then times, each in
a fresh process, the daily reminder scan, the weekly digest and the xlsx export of the whole
ledger, with peak RSS. The jobs run inside a transaction that is rolled back: they leave the
database unchanged (the writer's changes stay).
Every loop is bounded (request count and a time cap per page); only 127.0.0.1 is contacted.
"""
from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import re
import resource
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from http.cookies import SimpleCookie
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.writer import Pacer, Writer, count_rows, pick_targets  # noqa: E402

RESULTS = ROOT / "bench" / "results"
HOST = "127.0.0.1"
TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
TIME_CAP = 60.0        # seconds per page and concurrency level, whatever the request count
SEARCH = "教师编制"


class Client:
    """One browser: cookies and a fresh loopback connection per request (gunicorn sync workers close)."""

    def __init__(self, port: int, headers: dict | None = None):
        self.port, self.cookies, self.headers = port, {}, dict(headers or {})

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
        conn = http.client.HTTPConnection(HOST, self.port, timeout=120)
        try:
            hdrs = dict(self.headers, **(headers or {}))
            if self.cookies:
                hdrs["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
            conn.request(method, path, body=body, headers=hdrs)
            response = conn.getresponse()
            data = response.read()
            for header in response.headers.get_all("Set-Cookie") or []:
                for name, morsel in SimpleCookie(header).items():
                    self.cookies[name] = morsel.value
            return response.status, data
        finally:
            conn.close()

    def login(self, username: str, password: str) -> None:
        _status, page = self.request("GET", "/login")
        token = TOKEN.search(page.decode()).group(1)
        form = urllib.parse.urlencode({"csrf_token": token, "username": username, "password": password}).encode()
        status, _ = self.request("POST", "/login", form, {"Content-Type": "application/x-www-form-urlencoded"})
        if status != 302:
            raise SystemExit(f"sign-in as {username} failed ({status})")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def measure(clients: list[Client], path: str, requests: int, pace: float = 0.0) -> dict:
    """Send `requests` GETs over len(clients) threads, each as fast as answers come (closed loop),
    or, with `pace`, from the first client alone at `pace` requests a second (one person reading);
    latency percentiles in ms and throughput."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    counter = iter(range(requests))
    deadline = time.perf_counter() + TIME_CAP + (requests / pace if pace else 0)
    pacer = Pacer(pace) if pace else None
    if pacer:
        clients = clients[:1]

    def worker(client: Client) -> None:
        while time.perf_counter() < deadline:
            with lock:
                if next(counter, None) is None:
                    return
            if pacer:
                pacer.wait()
            t0 = time.perf_counter()
            status, _ = client.request("GET", path)
            elapsed = (time.perf_counter() - t0) * 1000
            with lock:
                latencies.append(elapsed)
                if status != 200:
                    errors[0] += 1

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    row = {"requests": len(latencies), "errors": errors[0], "p50": percentile(latencies, 50),
           "p95": percentile(latencies, 95), "p99": percentile(latencies, 99),
           "rps": len(latencies) / wall if wall else 0.0}
    if pacer:
        row["late"] = pacer.late   # requests sent late because the previous answer came after their slot
    return row


def _load() -> list[float]:
    """The machine's 1/5/15-minute load averages: other work on the same cores disturbs the numbers."""
    return [round(value, 2) for value in os.getloadavg()]


def scenarios(meta: dict, only: list[str] | None = None) -> list[tuple[str, str, str]]:
    """(name, who, path): who is a username, 'api' (the token) or '' (anonymous). `only`: the pages
    whose name contains one of these words (the trivial route is always kept, for the ratios)."""
    unit, item = meta["unit_id"], meta["item_id"]
    ledger = f"/items?unit={unit}&open=1&sort=deadline"
    pages = [
        ("trivial /healthz", "", "/healthz"),
        ("ledger unit p1", "admin", ledger),
        ("ledger unit p20", "admin", ledger + "&page=20"),
        ("ledger search", "admin", "/items?q=" + urllib.parse.quote(SEARCH)),
        ("item page", "admin", f"/items/{item}"),
        ("my items (head)", f"head-{meta['unit_code']}", "/my"),
        ("dashboard", "admin", "/reports/"),
        ("statistics", "admin", "/reports/statistics"),
        ("api list", "api", f"/api/v1/items?unit={unit}&open=1&sort=deadline"),
    ]
    if only:
        pages = [page for page in pages if page[0] == "trivial /healthz" or any(word in page[0] for word in only)]
    return pages


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def _server_env() -> dict:
    env = dict(os.environ)
    env.setdefault("SECRET_KEY", "bench-secret")
    # The benchmark is one client at a high rate: the per-token API limit would refuse it.
    env["API_RATE_LIMIT"] = env["API_ADDRESS_RATE_LIMIT"] = "1000000 per minute"
    return env


def _rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def serve_and_measure(meta: dict, workers: int, requests: int, levels: list[int], warmup: int,
                      soak: int = 0, only: list[str] | None = None, pace: float = 0.0,
                      writes_per_second: float = 0.0) -> dict:
    """The pages on a gunicorn of `workers` workers; with `writes_per_second`, measured a second time
    while the writer runs (under "_with_writer", with the writer's report and the rows it added)."""
    port = _free_port()
    command = [str(ROOT / ".venv" / "bin" / "gunicorn"), "--workers", str(workers), "--bind", f"{HOST}:{port}",
               "--chdir", str(ROOT), "--log-level", "warning", "--access-logfile", "/dev/null",
               # No recycling of workers (production recycles every ~2,000 requests): the soak
               # measures one worker's memory over all its requests.
               "--max-requests", "0", "wsgi:app"]
    server = subprocess.Popen(command, env=_server_env(), cwd=ROOT, start_new_session=True,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    threading.Thread(target=_relay_warnings, args=(server.stdout,), daemon=True).start()
    try:
        _wait_ready(port)
        sessions: dict[str, Client] = {}
        label = f"{workers}w"
        results = _measure_pages(port, meta, sessions, label, requests, levels, warmup, only, pace)
        if writes_per_second:
            results["_with_writer"] = _measure_under_writes(port, meta, sessions, label + "+writes", requests,
                                                            levels, warmup, only, pace, writes_per_second)
        results["_worker_rss_mb"] = [round(_rss_mb(pid), 1) for pid in _children(server.pid)]
        if soak and workers == 1:
            results["_soak"] = _soak(server.pid, port, meta, sessions, soak)
        return results
    finally:
        # The master stops its workers itself (SIGTERM to the whole group made it log an error
        # for each worker it had not stopped); the group is killed only if it does not stop.
        os.kill(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def _relay_warnings(stream) -> None:
    """The server's output without its INFO lines (the app logs every write the writer makes)."""
    for line in stream:
        if " INFO " not in line:
            sys.stderr.write(line)


def _measure_pages(port: int, meta: dict, sessions: dict, label: str, requests: int, levels: list[int],
                   warmup: int, only: list[str] | None, pace: float) -> dict:
    results = {"_load_before": _load()}
    level_keys = [f"pace{pace:g}"] if pace else [f"c{level}" for level in levels]
    for name, who, path in scenarios(meta, only):
        clients = [_client_for(who, port, meta, sessions) for _ in range(1 if pace else max(levels))]
        for _ in range(max(1, warmup)):
            status, body = clients[0].request("GET", path)
        if status != 200 or (path.startswith(("/items?", "/my")) and b"<tbody>" not in body):
            # A page past the end or an error page would measure nothing worth knowing.
            raise SystemExit(f"{name}: {path} answered {status} without a table of items")
        results[name] = {}
        for key, level in zip(level_keys, [1] if pace else levels):
            results[name][key] = row = measure(clients[:level], path, requests, pace)
            print(f"  {label:<9} {key:<7} {name:<18} p50 {row['p50']:8.1f}  p95 {row['p95']:8.1f}  "
                  f"p99 {row['p99']:8.1f} ms  {row['rps']:7.1f} req/s  errors {row['errors']}", flush=True)
    results["_load_after"] = _load()
    print(f"  load average {results['_load_before']} -> {results['_load_after']}", flush=True)
    return results


def _measure_under_writes(port: int, meta: dict, sessions: dict, label: str, requests: int, levels: list[int],
                          warmup: int, only: list[str] | None, pace: float, rate: float) -> dict:
    """The pages again while the writer writes; the rows counted before and after show its writes
    landed (progress updates and evidence one row each, every write at least one journal entry)."""
    url = os.environ["DATABASE_URL"]
    targets = pick_targets(url, seed=meta.get("seed", 9))
    before = count_rows(url)
    print(f"  writer: {rate:g} writes/s over {len(targets)} open items of "
          f"{len({t.unit_id for t in targets})} units", flush=True)
    writer = Writer(port, meta["api_token"], targets, rate, seed=meta.get("seed", 9)).start()
    try:
        results = _measure_pages(port, meta, sessions, label, requests, levels, warmup, only, pace)
    finally:
        report = writer.stop()
    after = count_rows(url)
    report["rows_before"], report["rows_after"] = before, after
    report["landed"] = (after["progress_updates"] - before["progress_updates"] == report["ok"]["progress"]
                        and after["evidence"] - before["evidence"] == report["ok"]["evidence"]
                        and after["journal_entries"] - before["journal_entries"] >= report["writes"])
    results["_writer"] = report
    print(f"  writer: {report['writes']} writes in {report['seconds']} s ({report['writes_per_second']}/s) on "
          f"{report['items']} items of {report['units']} units; ok {report['ok']}, 409 {report['conflicts_409']}, "
          f"failures {report['failures']}; rows {before} -> {after}"
          + ("" if report["landed"] else "  ** the rows do not match the writes **"), flush=True)
    for sample in report["failure_samples"]:
        print(f"  writer failure: {sample}", flush=True)
    return results


def _soak(server_pid: int, port: int, meta: dict, sessions: dict, requests: int) -> dict:
    """The worker's memory after `requests` more requests cycling through every page (a leak or an
    unbounded cache would show as growth)."""
    pages = [(who, path) for name, who, path in scenarios(meta) if who]
    clients = [_client_for(who, port, meta, sessions) for who, _path in pages]
    (worker,) = _children(server_pid)
    before, errors, started, load = _rss_mb(worker), 0, time.perf_counter(), _load()
    for n in range(requests):
        status, _ = clients[n % len(pages)].request("GET", pages[n % len(pages)][1])
        errors += status != 200
    if _children(server_pid) != [worker]:
        raise SystemExit("the gunicorn worker was replaced during the soak: its memory cannot be compared")
    row = {"requests": requests, "errors": errors, "seconds": round(time.perf_counter() - started, 1),
           "rss_before_mb": round(before, 1), "rss_after_mb": round(_rss_mb(worker), 1),
           "load_before": load, "load_after": _load()}
    print(f"  soak: {requests} requests, worker RSS {row['rss_before_mb']} -> {row['rss_after_mb']} MB, "
          f"errors {errors}", flush=True)
    return row


def _client_for(who: str, port: int, meta: dict, sessions: dict) -> Client:
    """A client of `who`; browsers share one sign-in (its cookies) per user."""
    if who == "api":
        return Client(port, {"Authorization": f"Bearer {meta['api_token']}"})
    client = Client(port)
    if who:
        if who not in sessions:
            sessions[who] = Client(port)
            sessions[who].login(who, meta.get("password", "rectify-demo"))
        client.cookies = dict(sessions[who].cookies)
    return client


def _wait_ready(port: int) -> None:
    for _ in range(300):  # up to 30 s
        try:
            if Client(port).request("GET", "/healthz")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise SystemExit("gunicorn did not answer /healthz within 30 s")


# -- jobs in process -------------------------------------------------------------------------------

def run_job(job: str, meta: dict) -> dict:
    """Time one job in this process, inside a transaction rolled back at the end."""
    sys.path.insert(0, str(ROOT))
    from tracker import clock, create_app
    from tracker.extensions import db
    app = create_app()
    today = dt.date.fromisoformat(meta["today"])
    with app.test_request_context("/"):
        session = db.session
        session.commit = session.flush  # keep everything in one transaction, rolled back below
        started = time.perf_counter()
        if job == "scan":
            # The first scan of a generated database fills years of missed slots (the backlog);
            # the daily scan is the one the day after, when only today's slots are new.
            from tracker.notifications import reminders
            backlog = reminders.scan(today - dt.timedelta(days=1))
            backlog_seconds = round(time.perf_counter() - started, 2)
            started = time.perf_counter()
            result = dict(reminders.scan(today), backlog=backlog, backlog_seconds=backlog_seconds)
        elif job == "digest":
            from tracker.notifications import digests
            result = digests.send_digests(today)
        else:
            from flask_login import login_user
            from tracker.auth.models import User
            from tracker.items import ledger
            from tracker.reports import export
            from sqlalchemy import select
            admin = session.scalar(select(User).where(User.username == "admin"))
            login_user(admin)
            rows = export.ledger_rows(ledger.LedgerFilter(), admin, today)
            with export.write_xlsx(rows, "Ledger") as workbook:
                result = {"bytes": workbook.seek(0, 2)}
        seconds = time.perf_counter() - started
        session.rollback()
        _vacuum_after_rollback(db)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"seconds": round(seconds, 2), "peak_rss_mb": round(peak, 1), "result": result}


def _vacuum_after_rollback(db) -> None:
    """PostgreSQL: clear the dead rows the rolled-back job left. Without autovacuum (off on the
    benchmark server) each repetition would find the tables it writes, and their indexes, fuller of
    dead entries and run slower (after a dozen scans, looking up nothing in the empty notifications
    table read a million dead index entries: 79 ms)."""
    if db.engine.dialect.name != "postgresql":
        return
    from sqlalchemy import text
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM reminders, notifications, journal_entries, outbox_messages"))


def jobs(meta_path: str, names: list[str]) -> dict:
    out = {}
    for job in names:
        load = _load()
        proc = subprocess.run([sys.executable, __file__, "--meta", meta_path, "--job", job], cwd=ROOT,
                              capture_output=True, text=True, timeout=900)
        if proc.returncode:
            out[job] = {"error": proc.stderr[-2000:]}
        else:
            out[job] = json.loads(proc.stdout.strip().splitlines()[-1])
        out[job].update(load_before=load, load_after=_load())
        print(f"  job {job:<8} {json.dumps(out[job], ensure_ascii=False)[:200]}", flush=True)
    return out


def print_table(report: dict) -> None:
    print("\npage                 workers conc   p50 ms   p95 ms   p99 ms    req/s  ×trivial(p50)")
    for key, runs in report["pages"].items():
        floor = runs["trivial /healthz"]
        for name, levels in runs.items():
            if name.startswith("_"):
                continue
            for level, row in levels.items():
                ratio = row["p50"] / floor[level]["p50"] if floor[level]["p50"] else float("nan")
                row["ratio_to_trivial"] = round(ratio, 2)
                print(f"{name:<20} {key:>7} {level:>4} {row['p50']:8.1f} {row['p95']:8.1f} {row['p99']:8.1f} "
                      f"{row['rps']:8.1f} {ratio:8.1f}")
    print_writes_table(report)
    soak = report["pages"].get("1w", {}).get("_soak")
    if soak:
        print(f"1 worker after {soak['requests']} more requests: RSS {soak['rss_before_mb']} -> "
              f"{soak['rss_after_mb']} MB ({soak['errors']} errors)")
    for job, row in report.get("jobs", {}).items():
        print(f"job {job:<16} {row.get('seconds', '?')} s, peak RSS {row.get('peak_rss_mb', '?')} MB, "
              f"load average {row.get('load_before')} -> {row.get('load_after')}")


def print_writes_table(report: dict) -> None:
    """Each page alone and under writes side by side (after print_table has set the ratios)."""
    pairs = [(key, report["pages"][key + "+writes"]) for key in report["pages"] if key + "+writes" in report["pages"]]
    if not pairs:
        return
    print("\npage                 workers level  alone p50 / p95 / p99, ×trivial   under writes p50 / p95 / p99, ×trivial")
    for key, writes in pairs:
        for name, levels in report["pages"][key].items():
            if name.startswith("_") or name not in writes:
                continue
            for level, row in levels.items():
                other = writes[name][level]
                print(f"{name:<20} {key:>7} {level:>6}  {row['p50']:6.1f} / {row['p95']:6.1f} / {row['p99']:6.1f}, "
                      f"{row['ratio_to_trivial']:5.1f}    {other['p50']:6.1f} / {other['p95']:6.1f} / "
                      f"{other['p99']:6.1f}, {other['ratio_to_trivial']:5.1f}")
        writer = writes["_writer"]
        print(f"writer ({key}): {writer['writes']} writes, {writer['writes_per_second']}/s, 409 "
              f"{sum(writer['conflicts_409'].values())}, failures {sum(writer['failures'].values())}, "
              f"rows {'landed' if writer['landed'] else 'DO NOT MATCH'}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--meta", default=str(ROOT / "instance" / "bench-meta.json"))
    parser.add_argument("--workers", default="1,4", help="gunicorn worker counts, comma-separated")
    parser.add_argument("--concurrency", default="1,8")
    parser.add_argument("--requests", type=int, default=200, help="requests per page and concurrency level")
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--soak", type=int, default=10000,
                        help="requests after the measurements (1 worker), then the worker's RSS (0: skip)")
    parser.add_argument("--jobs", default="scan,digest,export", help="in-process jobs ('' for none)")
    parser.add_argument("--pages", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--only", default="",
                        help="measure only the pages whose name contains one of these comma-separated words "
                             "(e.g. 'item,api': to repeat a disturbed measurement); the trivial route is always kept")
    parser.add_argument("--pace", type=float, default=0.0,
                        help="reads a second from one signed-in client, instead of the --concurrency levels "
                             "(0: closed loop, each client sends as soon as it is answered)")
    parser.add_argument("--writer", action=argparse.BooleanOptionalAction, default=False,
                        help="measure every page twice per worker count: alone, then while a writer posts "
                             "progress, transitions and evidence through the API (its changes stay)")
    parser.add_argument("--writes-per-second", type=float, default=1.0, help="the writer's rate")
    parser.add_argument("--job", help=argparse.SUPPRESS)   # internal: run one job in this process
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    meta = json.loads(Path(args.meta).read_text())
    os.environ.setdefault("DATABASE_URL", meta["database_url"])
    if args.job:
        print(json.dumps(run_job(args.job, meta), default=str))
        return 0
    levels = [int(c) for c in args.concurrency.split(",")]
    report = {"when": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
              "database": os.environ["DATABASE_URL"].split("://")[0], "items": meta["items"],
              "machine": {"cpus": os.cpu_count()}, "requests": args.requests, "load_at_start": _load(),
              "pace": args.pace or None, "writes_per_second": args.writes_per_second if args.writer else None,
              "pages": {}, "jobs": {}}
    if args.pages:
        for workers in [int(w) for w in args.workers.split(",")]:
            print(f"gunicorn, {workers} worker(s):", flush=True)
            runs = serve_and_measure(meta, workers, args.requests, levels, args.warmup, args.soak,
                                     [w for w in args.only.split(",") if w], args.pace,
                                     args.writes_per_second if args.writer else 0.0)
            report["pages"][f"{workers}w"] = runs
            if "_with_writer" in runs:
                report["pages"][f"{workers}w+writes"] = runs.pop("_with_writer")
    if args.jobs:
        report["jobs"] = jobs(args.meta, args.jobs.split(","))
    print_table(report)
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = Path(args.out or RESULTS / f"{report['database']}-{meta['items']}-{time.strftime('%Y%m%d-%H%M%S')}.json")
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False))
    print(f"\nwritten {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
