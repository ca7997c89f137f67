"""Browser tests: Debian's Chromium driven by Playwright against the app served on a free loopback port."""
from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

CHROMIUM = "/usr/bin/chromium"
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


@pytest.fixture(scope="session")
def chromium():
    """A headless Chromium (never downloaded: .ci/run installs Debian's package)."""
    from playwright.sync_api import sync_playwright
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium fonts-noto-cjk (.ci/run does this)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        yield browser
        browser.close()


@pytest.fixture
def live_server(app):
    """The app on 127.0.0.1:<free port>, loaded with the demo data; emptied again after the test."""
    from tracker import demo
    from tracker.extensions import db
    with app.app_context():
        demo.seed()
        db.session.remove()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.fixture
def open_as(chromium, live_server):
    """open_as(username, width=1280) -> a signed-in page in a fresh browser context."""
    contexts = []

    def _open(username: str, width: int = 1280, locale: str = "zh-CN"):
        context = chromium.new_context(viewport={"width": width, "height": 900}, locale=locale)
        context.set_default_timeout(15000)
        contexts.append(context)
        page = context.new_page()
        page.goto(f"{live_server}/login")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", "rectify-demo")
        page.click("input[type=submit]")
        page.wait_for_load_state()
        return page

    yield _open
    for context in contexts:
        context.close()


@pytest.fixture(scope="session")
def shots():
    """Folder for screenshots a person can look at; `make test` prints where it is."""
    shutil.rmtree(SHOTS, ignore_errors=True)
    SHOTS.mkdir(parents=True)
    return SHOTS


@pytest.fixture
def edu_item_id(app, live_server) -> int:
    """The first open item (in progress) that 县教育局 leads in the demo: head-edu's to work on."""
    from tracker.extensions import db
    from tracker.items.models import Item, Status
    from tracker.units.models import Unit
    with app.app_context():
        unit_id = db.session.query(Unit.id).filter_by(name="县教育局").scalar()
        item_id = (db.session.query(Item.id).filter_by(lead_unit_id=unit_id, status=Status.IN_PROGRESS)
                   .order_by(Item.id).first()[0])
        db.session.remove()
    return item_id
