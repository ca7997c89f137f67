"""Word documents (.docx) from the templates an office can adapt: the 督办单, the 整改情况报告 and the
通报. Rendered with docxtpl from templates/documents/ (document_templates.py builds the defaults),
or from DOCUMENT_TEMPLATE_DIR when a file of the same name is there.

Papers are Chinese whatever the reader's interface language: they are filed as such. Values are
escaped (autoescape); a multi-line text keeps its lines.
"""
from __future__ import annotations

import datetime as dt
import io
import logging
from pathlib import Path

from docxtpl import DocxTemplate, Listing
from flask import current_app
from jinja2 import Environment

log = logging.getLogger(__name__)

DEFAULT_DIR = Path(__file__).resolve().parents[2] / "templates" / "documents"
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def template_path(name: str) -> Path:
    """The office's own template when DOCUMENT_TEMPLATE_DIR has one of this name, else the default."""
    override = current_app.config.get("DOCUMENT_TEMPLATE_DIR")
    if override:
        candidate = Path(override) / name
        if candidate.is_file():
            return candidate
        log.info("no %s in DOCUMENT_TEMPLATE_DIR %s: using the default template", name, override)
    return DEFAULT_DIR / name


def lines(text: str | None) -> Listing | str:
    """A text whose line breaks stay line breaks in the document."""
    text = (text or "").strip()
    return Listing(text) if "\n" in text else text


def chinese_date(day: dt.date | None) -> str:
    """2026年3月16日, as papers write dates."""
    return f"{day.year}年{day.month}月{day.day}日" if day else ""


def render(name: str, context: dict) -> io.BytesIO:
    """The template `name` filled with `context`, as a .docx in memory (papers are a few pages)."""
    document = DocxTemplate(str(template_path(name)))
    document.render(context, jinja_env=Environment(autoescape=True), autoescape=True)
    target = io.BytesIO()
    document.save(target)
    target.seek(0)
    return target
