"""Recognise what a file is from its bytes (never its name) and refuse anything not on the allow-list."""
from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from tracker.i18n import lazy_gettext as _l

PDF, JPEG, PNG, WEBP = "application/pdf", "image/jpeg", "image/png", "image/webp"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
DOC, XLS, TXT, ZIP = "application/msword", "application/vnd.ms-excel", "text/plain", "application/zip"

EXTENSIONS = {PDF: "pdf", JPEG: "jpg", PNG: "png", WEBP: "webp", DOCX: "docx", XLSX: "xlsx", PPTX: "pptx",
              DOC: "doc", XLS: "xls", TXT: "txt", ZIP: "zip"}
# The file picker's `accept`: "image/*" lets a phone offer its camera; the rest by extension.
ACCEPT = ",".join(["image/*", *("." + ext for kind, ext in EXTENSIONS.items() if not kind.startswith("image/"))])
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# Text that a browser could treat as markup or a script, even in a .txt.
MARKUP = re.compile(rb"<\s*(!doctype|html|script|svg|iframe|object|embed|body|head|meta|\?xml)", re.I)


class Refusal(Exception):
    """The file is not acceptable; `message` says why in the user's language."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


@dataclass(frozen=True)
class ZipLimits:
    max_entries: int
    max_ratio: int
    max_total: int


def detect(path: Path, limits: ZipLimits) -> str:
    """The MIME type of an acceptable file, else Refusal."""
    with path.open("rb") as f:
        head = f.read(8192)
    if not head:
        raise Refusal(_l("The file is empty."))
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if head.startswith(b"PK\x03\x04"):
        return _zip_kind(path, limits)
    if head.startswith(OLE_MAGIC):
        return _ole_kind(path)
    if head.startswith((b"MZ", b"\x7fELF", b"\xcf\xfa\xed\xfe", b"\xfe\xed\xfa", b"#!")):
        raise Refusal(_l("Programs and scripts cannot be uploaded as evidence."))
    return _text_kind(path)


def _zip_kind(path: Path, limits: ZipLimits) -> str:
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
            if len(entries) > limits.max_entries:
                raise Refusal(_l("The archive has too many files (at most %(n)d).", n=limits.max_entries))
            total = sum(e.file_size for e in entries)
            packed = max(path.stat().st_size, 1)
            if total > limits.max_total or total > packed * limits.max_ratio:
                raise Refusal(_l("The archive expands far beyond its size and was refused."))
            names = {e.filename for e in entries}
    except zipfile.BadZipFile:
        raise Refusal(_l("The archive is damaged."))
    if "[Content_Types].xml" in names:
        if any(n.startswith("word/") for n in names):
            return DOCX
        if any(n.startswith("xl/") for n in names):
            return XLSX
        if any(n.startswith("ppt/") for n in names):
            return PPTX
    return ZIP


def _ole_kind(path: Path) -> str:
    """Legacy Word/Excel: a well-formed OLE2 header and the stream name of the application."""
    data = path.read_bytes()
    if len(data) < 1536 or data[28:30] != b"\xfe\xff" or data[30:32] not in (b"\x09\x00", b"\x0c\x00"):
        raise Refusal(_l("The Office file is damaged."))
    if "WordDocument".encode("utf-16-le") in data:
        return DOC
    if "Workbook".encode("utf-16-le") in data or "Book".encode("utf-16-le") in data:
        return XLS
    raise Refusal(_l("This kind of file is not accepted as evidence."))


def _text_kind(path: Path) -> str:
    data = path.read_bytes()
    if b"\x00" in data:
        raise Refusal(_l("This kind of file is not accepted as evidence."))
    for encoding in ("utf-8", "gb18030"):
        try:
            data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise Refusal(_l("This kind of file is not accepted as evidence."))
    if MARKUP.search(data):
        raise Refusal(_l("Web pages, SVG images and scripts cannot be uploaded as evidence."))
    return TXT
