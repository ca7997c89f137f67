"""Settings read from the environment when the app starts."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _setting(name: str, **env) -> str:
    environment = {k: v for k, v in os.environ.items() if k not in ("PORT", "BASE_URL", "RATELIMIT_STORAGE_URI")}
    environment.update(env)
    code = f"import config; print(config.Config.{name})"
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=environment, check=True,
                          capture_output=True, text=True).stdout.strip()


@pytest.mark.parametrize("env, url", [
    ({}, "http://127.0.0.1:5000"),
    ({"PORT": "5101"}, "http://127.0.0.1:5101"),
    ({"PORT": "5101", "BASE_URL": "https://rectify.example.gov.cn/"}, "https://rectify.example.gov.cn"),
])
def test_links_in_mail_follow_the_port_unless_the_base_url_is_set(env, url):
    assert _setting("BASE_URL", **env) == url


def test_rate_limits_are_counted_in_a_file_every_worker_shares_unless_a_store_is_set():
    assert _setting("RATELIMIT_STORAGE_URI") == f"sqlitefile://{ROOT / 'instance' / 'ratelimits.sqlite3'}"
    assert _setting("RATELIMIT_STORAGE_URI", RATELIMIT_STORAGE_URI="redis://10.0.0.5:6379/1") == \
        "redis://10.0.0.5:6379/1"
