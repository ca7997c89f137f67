"""The rate-limit counters every worker of a machine shares (tracker/ratelimits.py)."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from limits import parse
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter

import tracker.ratelimits  # noqa: F401 - registers sqlitefile://


def test_two_processes_worth_of_counters_on_one_file_lose_no_count(tmp_path):
    uri = f"sqlitefile://{tmp_path / 'limits.sqlite3'}"
    first, second = storage_from_string(uri), storage_from_string(uri)
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda n: (first if n % 2 else second).incr("login:x", 60), range(200)))
    assert first.get("login:x") == second.get("login:x") == 200


def test_a_limit_refuses_past_its_count_and_opens_again_when_the_window_ends(tmp_path):
    storage = storage_from_string(f"sqlitefile://{tmp_path / 'limits.sqlite3'}")
    now = [1_000_000.0]
    storage.now = lambda: now[0]
    limiter, limit = FixedWindowRateLimiter(storage), parse("3 per minute")
    assert [limiter.hit(limit, "head-edu") for _ in range(4)] == [True, True, True, False]
    now[0] += 61
    assert limiter.hit(limit, "head-edu") is True
    assert storage.get_expiry("login:unknown") == now[0]
    assert storage.check() and storage.reset() == 1  # the one counter, now cleared
    assert limiter.get_window_stats(limit, "head-edu").remaining == 3
