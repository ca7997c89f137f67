"""LibreOffice opens every paper: the demo's ledger xlsx and each .docx are converted to PDF in one
`soffice --headless --convert-to pdf` call, and the PDFs are checked as a person would look at
them: A4, landscape for the ledger and portrait for the documents, a sensible number of pages, the
ledger's header on every page and the text of every column in the text layer (no column cut off).
The files and their PDFs stay under test-artifacts/papers/ to look at."""
from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from tests.helpers import TODAY, Browser
from tracker import clock, demo
from tracker.evaluations.models import Evaluation, Finding
from tracker.extensions import db
from tracker.items.models import Item
from tracker.units.models import Unit
from tracker.reports.ledger_book import FIRST_DATA_ROW

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "papers"
ESCALATED = "建立书记、校长履职监督和科学评价机制"  # the demo's escalated item (10 days overdue)


@pytest.fixture(autouse=True)
def _renderers():
    """A missing LibreOffice or poppler fails these tests rather than skipping them unseen."""
    missing = [tool for tool in ("soffice", "pdftotext", "pdfinfo") if not shutil.which(tool)]
    if missing:
        pytest.fail(f"{', '.join(missing)} missing: apt-get install -y libreoffice-calc libreoffice-writer "
                    "poppler-utils (.ci/browser-deps does this)")


def pdfinfo(path: Path, pages: int) -> list[tuple[float, float]]:
    """(width, height) in points of each page."""
    out = subprocess.run(["pdfinfo", "-f", "1", "-l", str(pages), str(path)], capture_output=True, text=True,
                         check=True).stdout
    return [(float(w), float(h)) for w, h in re.findall(r"Page\s+\d+ size:\s+([\d.]+) x ([\d.]+)", out)]


def page_count(path: Path) -> int:
    out = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    return int(re.search(r"Pages:\s+(\d+)", out).group(1))


def pdf_text(path: Path, page: int | None = None) -> str:
    """The text layer, without white space (a cell's text wraps over several lines)."""
    args = ["pdftotext", "-enc", "UTF-8"] + (["-f", str(page), "-l", str(page)] if page else []) + [str(path), "-"]
    return re.sub(r"\s+", "", subprocess.run(args, capture_output=True, text=True, check=True).stdout)


def is_a4(size: tuple[float, float], landscape: bool) -> bool:
    width, height = size
    long_side, short_side = (width, height) if landscape else (height, width)
    return abs(long_side - 841.9) < 2 and abs(short_side - 595.3) < 2


def _more_items(count: int) -> None:
    """Items like the demo's (same problems and units), each with a long measure text."""
    from tests.factories import Factory
    findings = db.session.scalars(select(Finding).order_by(Finding.id)).all()
    units = db.session.scalars(select(Unit).order_by(Unit.id)).all()
    make = Factory(db)
    for n in range(count):
        item = make.item(finding=findings[n % len(findings)], lead_unit=units[n % len(units)],
                         cooperating=[units[(n + 1) % len(units)]], title=f"分解落实整改措施第{n + 1}项",
                         deadline=TODAY + dt.timedelta(days=n - 10), responsible_leader="分管副县长 赵刚")
        item.measures = "制定工作方案，明确责任分工和完成时限；建立周调度、月通报制度，定期报送进展和佐证材料。"
    db.session.commit()


@pytest.fixture(scope="module")
def papers(app, tmp_path_factory):
    """The demo's papers as downloaded by the coordinator, converted to PDF in one soffice call."""
    clock.freeze(TODAY)
    work = tmp_path_factory.mktemp("papers")
    try:
        with app.app_context():
            demo.seed(TODAY)
            clock.freeze(TODAY)
            _more_items(40)  # a ledger over several pages: the header repeats on each
            escalated = db.session.scalar(select(Item.id).where(Item.title == ESCALATED))
            evaluation = db.session.scalar(select(Evaluation.id).order_by(Evaluation.year))
            db.session.remove()
        app.config["OFFICE_NAME"] = "新源县人民政府教育督导室"
        admin = Browser(app)
        admin.login("admin", demo.DEMO_PASSWORD)
        issued = admin.post(f"/reports/items/{escalated}/notice", {"requirement": "请于一周内报送整改进展及佐证材料。",
                                                                   "reply_by": "2026-03-23"})
        assert issued.status_code == 302, issued.text
        files = {"ledger.xlsx": admin.get("/reports/ledger.xlsx?sort=deadline"),
                 "supervision_notice.docx": admin.get(issued.location),
                 "progress_report.docx": admin.get(f"/reports/evaluations/{evaluation}/report.docx"),
                 "circular.docx": admin.get("/reports/circular.docx?start=2026-02-01&end=2026-03-16")}
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        for name, response in files.items():  # kept beside their PDFs, to open as a person would
            assert response.status_code == 200, (name, response.text)
            (ARTIFACTS / name).write_bytes(response.data)
        # One LibreOffice start for all four files (a start costs seconds); its own profile directory,
        # so that it neither waits for nor disturbs a LibreOffice the user has open.
        subprocess.run(["soffice", "--headless", "--norestore", f"-env:UserInstallation=file://{work / 'profile'}",
                        "--convert-to", "pdf", "--outdir", str(ARTIFACTS), *(str(ARTIFACTS / n) for n in files)],
                       capture_output=True, timeout=240, check=True)
        yield {name: ARTIFACTS / (Path(name).stem + ".pdf") for name in files} | {"ledger": ARTIFACTS / "ledger.xlsx"}
    finally:
        app.config["OFFICE_NAME"] = None
        from tests.helpers import empty_database
        empty_database(app)
        clock.freeze(None)


def test_the_ledger_prints_on_a4_landscape_with_every_column_and_its_header_on_every_page(papers):
    pdf = papers["ledger.xlsx"]
    pages = page_count(pdf)
    sheet = load_workbook(papers["ledger"]).worksheets[0]
    items = sheet.max_row - FIRST_DATA_ROW + 1
    assert items > 40 and 2 <= pages <= items // 4
    assert all(is_a4(size, landscape=True) for size in pdfinfo(pdf, pages))
    text = pdf_text(pdf)
    assert sheet["A1"].value in text
    for column in range(1, sheet.max_column + 1):
        header = sheet.cell(row=4, column=column).value or sheet.cell(row=3, column=column).value
        assert header.replace(" ", "") in text, header
        values = [sheet.cell(row=r, column=column).value for r in range(FIRST_DATA_ROW, sheet.max_row + 1)]
        shown = [v.strftime("%Y-%m-%d") if hasattr(v, "strftime") else str(v) for v in values if v not in (None, "")]
        for value in shown[:3]:  # the column's first values: nothing of it cut off at the page's edge
            assert re.sub(r"\s+", "", value)[:12] in text, (header, value)
    for page in range(1, pages + 1):
        assert "责任分工" in pdf_text(pdf, page) and "牵头单位" in pdf_text(pdf, page), page


@pytest.mark.parametrize("name, words, most_pages", [
    ("supervision_notice.docx", ("督办单", "〔2026〕第1号", ESCALATED, "新源县人民政府教育督导室（盖章）",
                                 "请于一周内报送整改进展及佐证材料。", "2026年3月23日"), 2),
    ("progress_report.docx", ("反馈问题整改情况的报告", "二、问题整改情况", "三、尚未完成的整改事项", ESCALATED), 20),
    ("circular.docx", ("整改工作进展情况的通报", "一、各单位按期完成情况", "县教育局", "二、逾期未完成事项",
                       ESCALATED[:6]), 6),
])
def test_each_document_opens_as_a4_portrait_with_page_numbers(papers, name, words, most_pages):
    pdf = papers[name]
    pages = page_count(pdf)
    assert 1 <= pages <= most_pages
    assert all(is_a4(size, landscape=False) for size in pdfinfo(pdf, pages))
    text = pdf_text(pdf)
    for word in words:
        assert word in text, word
    assert "—1—" in text  # the page number in the footer
