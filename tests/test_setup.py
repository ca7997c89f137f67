"""`make test` on a machine without the browser: installed when it can be, else a stop at once."""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_without_chromium_a_non_root_run_stops_at_once_with_the_command_to_run():
    bin_dir = Path(tempfile.mkdtemp())  # a PATH with the shell tools but no chromium, readable by nobody
    bin_dir.chmod(0o755)
    try:
        for tool in ("sh", "id", "fc-list", "grep"):
            (bin_dir / tool).symlink_to(shutil.which(tool))
        result = subprocess.run([shutil.which("setpriv"), "--reuid=65534", "--regid=65534", "--clear-groups",
                                 str(bin_dir / "sh"), str(ROOT / ".ci" / "browser-deps")],
                                env={"PATH": str(bin_dir)}, capture_output=True, text=True, timeout=30)
    finally:
        shutil.rmtree(bin_dir)
    assert result.returncode == 1
    assert "sudo apt-get install -y chromium fonts-noto-cjk" in result.stderr


def test_with_chromium_and_the_fonts_nothing_is_done():
    result = subprocess.run(["sh", str(ROOT / ".ci" / "browser-deps")], capture_output=True, text=True,
                            env={"PATH": os.environ["PATH"]}, timeout=30)
    assert result.returncode == 0 and result.stdout == "" and result.stderr == ""
