"""`make test` on a machine without the browser: installed when it can be, else a stop at once."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from click.testing import CliRunner
from flask.cli import FlaskGroup

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
    assert "sudo apt-get install -y chromium fonts-noto-cjk poppler-utils" in result.stderr


def test_with_chromium_and_the_fonts_nothing_is_done():
    result = subprocess.run(["sh", str(ROOT / ".ci" / "browser-deps")], capture_output=True, text=True,
                            env={"PATH": os.environ["PATH"]}, timeout=30)
    assert result.returncode == 0 and result.stdout == "" and result.stderr == ""


def _readme_commands() -> list[list[str]]:
    text = (ROOT / "README.md").read_text()
    return [re.findall(r"[a-z][a-z-]*", line.split("--app wsgi", 1)[1].split("#")[0].split("[")[0])[:2]
            for line in text.splitlines() if "flask --app wsgi" in line and "Procfile" not in line]


def test_the_readmes_operator_commands_are_the_projects_own_and_exist(app):
    text = (ROOT / "README.md").read_text()
    bare = [line for line in text.splitlines()
            if re.search(r"(?<!bin/)flask --app wsgi", line) and "Procfile" not in line]
    assert bare == []  # a bare `flask` is whichever is on the PATH: "No such command"
    commands = _readme_commands()
    assert ["reminders", "scan"] in commands and ["outbox", "retry"] in commands
    cli = FlaskGroup(create_app=lambda: app)  # what `flask --app wsgi` offers, with the built-ins
    for words in commands:
        result = CliRunner().invoke(cli, [*words, "--help"])
        assert result.exit_code == 0, (words, result.output)
