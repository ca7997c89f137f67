"""Every printable page printed to PDF by the browser, as a person would with Print: the PDFs are
kept under test-artifacts/print/ to look at, and their text layer checked for squeezed columns."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tracker.extensions import db
from tracker.items.models import Item
from tracker.units.models import Unit

PRINTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "print"


@pytest.fixture(scope="module")
def prints():
    shutil.rmtree(PRINTS, ignore_errors=True)
    PRINTS.mkdir(parents=True)
    return PRINTS


def printed(page, url: str, path: Path) -> tuple[str, list[str]]:
    """Print `url` to `path`; its text laid out as on paper, and each page's size in points."""
    page.goto(url)
    page.emulate_media(media="print")
    page.pdf(path=str(path), prefer_css_page_size=True, print_background=True)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout
    info = subprocess.run(["pdfinfo", "-f", "1", "-l", "99", str(path)], capture_output=True, text=True,
                          check=True).stdout
    return text, re.findall(r"Page\s+\d+ size:\s+([\d.]+ x [\d.]+)", info)


def cell_texts(page, table_id: str, column: int) -> list[str]:
    return page.eval_on_selector_all(f"#{table_id} tbody tr", f"rows => rows.map(r => r.cells[{column}].innerText)")


def test_the_unit_report_prints_across_the_page_with_whole_names_and_roles(app, open_as, live_server, prints):
    with app.app_context():
        unit_id = db.session.query(Unit.id).filter_by(name="县教育局").scalar()
        db.session.remove()
    page = open_as("admin")
    text, sizes = printed(page, f"{live_server}/reports/units/{unit_id}", prints / "unit-report.pdf")
    assert sizes and all(float(w) > float(h) for w, h in (s.split(" x ") for s in sizes))  # landscape
    page.emulate_media(media="screen")
    owners = [o for o in cell_texts(page, "unit-items", 3) if o != "—"]
    roles = [r.splitlines()[0] for r in cell_texts(page, "unit-items", 2)]
    assert owners and roles
    flat = text.replace(" ", "")
    for word in set(owners) | set(roles):  # a squeezed column breaks a name over several lines
        assert word in flat, f"{word!r} is not whole in the printed report"


@pytest.mark.parametrize("name, url", [("overdue", "/reports/overdue"), ("dashboard", "/reports/"),
                                       ("notice", "/reports/items/{item}/notice")])
def test_each_report_prints_with_its_words(app, open_as, live_server, prints, name, url):
    with app.app_context():
        listed = db.session.query(Item).filter_by(listed_supervision=True).first()
        item_id, title = listed.id, listed.title
        db.session.remove()
    page = open_as("admin")
    text, sizes = printed(page, live_server + url.format(item=item_id), prints / f"{name}.pdf")
    assert sizes
    flat = text.replace(" ", "")
    expected = {"overdue": "逾期", "dashboard": "工作看板", "notice": title.replace(" ", "")}[name]
    assert expected in flat and "跳到正文" not in flat  # the screen's chrome is not printed
