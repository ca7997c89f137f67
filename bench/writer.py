"""The benchmark's writer: progress updates, workflow transitions and evidence uploads through the
API at a set rate while bench/run.py measures the pages, so that whatever the app keeps warm is
invalidated as people's writes would invalidate it.

The writer signs with a personal API token (the generator's admin token), writes to items chosen
at random among the open ones of the database (`pick_targets`), and moves each along a cycle that
keeps it open: in progress -> submitted for closure -> returned -> in progress. Its changes stay in
the database (bench/README.md). A 409 (the item's state was not what the writer believed) is
expected now and then: it is counted apart and the item is read again; any other answer that is
not 2xx is a failure, counted and reported.
"""
from __future__ import annotations

import http.client
import json
import random
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

HOST = "127.0.0.1"
WRITABLE = ("in_progress", "submitted", "returned")   # open and on the writer's cycle
# The next step of the cycle from each status: (action, JSON body).
CYCLE = {"in_progress": ("submit_for_closure", {}),
         "submitted": ("return_item", {"reason": "基准测试写入：佐证材料不充分，请补充"}),
         "returned": ("resume", {})}
# Of every six writes: three progress updates, two transitions, one evidence upload.
KINDS = ("progress", "transition", "progress", "evidence", "progress", "transition")


class Pacer:
    """Sends the n-th event at start + n / rate, or at once when the previous one ended later (one
    client: no two events overlap, and a slow answer is followed by the next event without a pause).
    `clock` and `sleep` are injectable so that the schedule can be tested without waiting."""

    def __init__(self, rate: float, clock: Callable[[], float] = time.perf_counter,
                 sleep: Callable[[float], object] = time.sleep):
        if rate <= 0:
            raise ValueError("the rate must be positive")
        self.interval, self.clock, self.sleep = 1.0 / rate, clock, sleep
        self.start: float | None = None
        self.sent = 0
        self.late = 0   # events that could not wait for their slot: the previous one ended after it

    def wait(self) -> None:
        now = self.clock()
        if self.start is None:
            self.start = now
        slot = self.start + self.sent * self.interval
        if slot > now:
            self.sleep(slot - now)
        elif self.sent:
            self.late += 1
        self.sent += 1


@dataclass
class Target:
    id: int
    unit_id: int
    status: str
    # False after a refused submission (no evidence yet, or a checklist entry missing): the item is
    # not submitted again until the writer has added a file to it.
    submittable: bool = True


def pick_targets(database_url: str, count: int = 1000, seed: int = 9) -> list[Target]:
    """Up to `count` open items on the writer's cycle, drawn at random (seeded) from the whole
    database: units are hit about as often as they lead items, as with real users."""
    from sqlalchemy import create_engine, text
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT id, lead_unit_id, status FROM items WHERE status IN "
                                     "('in_progress', 'submitted', 'returned') ORDER BY id")).all()
    finally:
        engine.dispose()
    rows = random.Random(seed).sample(rows, min(count, len(rows)))
    return [Target(row.id, row.lead_unit_id, row.status) for row in rows]


def count_rows(database_url: str) -> dict[str, int]:
    """Rows the writer adds to: compared before and after a run, they show its writes landed."""
    from sqlalchemy import create_engine, text
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            return {table: conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
                    for table in ("progress_updates", "evidence", "journal_entries")}
    finally:
        engine.dispose()


def _pdf(label: str) -> bytes:
    """A small valid PDF, different for every upload (the same file twice is a duplicate, not a write)."""
    return (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Count 0/Kids[]>>"
            b"endobj\n% bench writer " + label.encode() + b"\ntrailer<</Root 1 0 R>>\n%%EOF\n")


def _multipart(fields: dict[str, str], files: list[tuple[str, str, bytes]]) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for name, filename, data in files:
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                     f'Content-Type: application/octet-stream\r\n\r\n'.encode() + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def _percentile(values: list[float], p: float) -> float | None:
    ordered = sorted(values)
    if not ordered:
        return None
    return round(ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))], 1)


class Writer:
    """Writes through the API on a thread of its own at `rate` writes a second until stopped."""

    def __init__(self, port: int, token: str, targets: list[Target], rate: float = 1.0, seed: int = 9,
                 clock: Callable[[], float] = time.perf_counter):
        if not targets:
            raise ValueError("no open item to write to")
        self.port, self.token, self.rate = port, token, rate
        self.targets = list(targets)
        self.rng = random.Random(seed)
        self.run_id = uuid.uuid4().hex[:8]   # submission keys and files unique across runs
        self.clock = clock
        self.stopping = threading.Event()
        self.pacer = Pacer(rate, clock, self.stopping.wait)
        self.thread: threading.Thread | None = None
        self.ok, self.conflicts, self.failures = (dict.fromkeys(KINDS, 0) for _ in range(3))
        self.failure_samples: list[str] = []
        self.latencies: dict[str, list[float]] = {kind: [] for kind in dict.fromkeys(KINDS)}
        self.items_written: set[int] = set()
        self.units_written: set[int] = set()
        self.started = self.stopped = 0.0

    # -- running ---------------------------------------------------------------------
    def start(self) -> Writer:
        self.started = self.clock()
        self.thread = threading.Thread(target=self._run, name="bench-writer", daemon=True)
        self.thread.start()
        return self

    def stop(self) -> dict:
        self.stopping.set()
        if self.thread is not None:
            self.thread.join(timeout=150)
        self.stopped = self.clock()
        return self.report()

    def _run(self) -> None:
        n = 0
        while True:
            self.pacer.wait()
            if self.stopping.is_set():
                return
            kind = KINDS[n % len(KINDS)]
            try:
                self.write(kind, n)
            except Exception as exc:   # counted like a refused write: the thread must not end unnoticed
                self._fail(kind, f"{type(exc).__name__}: {exc}")
            n += 1

    def write(self, kind: str, n: int) -> None:
        """One write of `kind` to a random item that allows it; counted by how it was answered."""
        target = self.choose(kind)
        if target is None:
            self._fail(kind, "no item left in a state that allows it")
            return
        if kind == "progress":
            path = f"/api/v1/items/{target.id}/progress"
            # The run in the text: the same words again within 30 minutes would be a repeated post.
            body = json.dumps({"body": f"基准测试写入（{self.run_id}）：第{n + 1}次进度更新，按计划推进",
                               "percent": self.rng.randint(10, 95),
                               "submission_key": f"bench-{self.run_id}-{n}"}).encode()
            content_type = "application/json"
        elif kind == "evidence":
            path = f"/api/v1/items/{target.id}/evidence"
            body, content_type = _multipart({}, [("files", f"基准佐证{n + 1}.pdf", _pdf(f"{self.run_id}-{n}"))])
        else:
            action, values = CYCLE[target.status]
            path = f"/api/v1/items/{target.id}/actions/{action}"
            body, content_type = json.dumps(values).encode(), "application/json"
        t0 = self.clock()
        try:
            status, answer = self._request("POST", path, body, content_type)
        except OSError as exc:
            self._fail(kind, f"{path}: {exc}")
            return
        self.latencies[kind].append((self.clock() - t0) * 1000)
        if 200 <= status < 300:
            self.ok[kind] += 1
            self.items_written.add(target.id)
            self.units_written.add(target.unit_id)
            self._learn(target, answer)
            if kind == "evidence":
                target.submittable = True
        elif status == 409:
            self.conflicts[kind] += 1
            believed = target.status
            self._refresh(target)
            if kind == "transition" and believed == "in_progress" and target.status == "in_progress":
                target.submittable = False
        else:
            self._fail(kind, f"{path}: {status} {answer[:200].decode(errors='replace')}")

    def choose(self, kind: str) -> Target | None:
        if kind == "progress":   # progress is posted while in progress or returned
            allowed = [t for t in self.targets if t.status in ("in_progress", "returned")]
        elif kind == "transition":   # the next step of the cycle; a submission only once it may succeed
            allowed = [t for t in self.targets
                       if t.status in WRITABLE and (t.submittable or t.status != "in_progress")]
        else:
            allowed = [t for t in self.targets if t.status in WRITABLE]
        return self.rng.choice(allowed) if allowed else None

    def _learn(self, target: Target, answer: bytes) -> None:
        """The item's status from the answer (an action answers with the item, progress with its summary)."""
        try:
            data = json.loads(answer)
        except ValueError:
            return
        item = data.get("item", data) if isinstance(data, dict) else {}
        if isinstance(item, dict) and isinstance(item.get("status"), str):
            target.status = item["status"]

    def _refresh(self, target: Target) -> None:
        """After a 409: read the item again; it leaves the pool when it is off the cycle (closed...)."""
        try:
            status, answer = self._request("GET", f"/api/v1/items/{target.id}")
        except OSError:
            status, answer = 0, b""
        if status == 200:
            self._learn(target, answer)
        if status != 200 or target.status not in WRITABLE:
            self.targets.remove(target)

    def _fail(self, kind: str, what: str) -> None:
        self.failures[kind] += 1
        if len(self.failure_samples) < 10:
            self.failure_samples.append(what)

    def _request(self, method: str, path: str, body: bytes | None = None,
                 content_type: str | None = None) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection(HOST, self.port, timeout=120)
        try:
            headers = {"Authorization": f"Bearer {self.token}"}
            if content_type:
                headers["Content-Type"] = content_type
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

    # -- reporting -------------------------------------------------------------------
    def report(self) -> dict:
        written = sum(self.ok.values())
        seconds = (self.stopped or self.clock()) - self.started if self.started else None
        return {
            "rate_asked": self.rate, "seconds": round(seconds, 1) if seconds else None,
            "writes": written, "writes_per_second": round(written / seconds, 2) if seconds else None,
            "ok": dict(self.ok), "conflicts_409": dict(self.conflicts), "failures": dict(self.failures),
            "failure_samples": list(self.failure_samples), "late": self.pacer.late,
            "items": len(self.items_written), "units": len(self.units_written),
            "latency_ms": {kind: {"p50": _percentile(values, 50), "p95": _percentile(values, 95)}
                           for kind, values in self.latencies.items()},
        }
