"""Display names for uploaded files: keep Chinese, drop anything that could mislead or break out.

The stored file never uses this name (storage is content-addressed); it is only shown and offered
as the download name."""
from __future__ import annotations

import re
import unicodedata

MAX_NAME = 120


def display_name(raw: str | None, extension: str) -> str:
    """A safe, readable file name ending in the extension of the detected type."""
    name = unicodedata.normalize("NFC", raw or "")
    name = re.split(r"[\\/]", name)[-1]  # no directories, whichever separator
    # Control and format characters (NUL, newlines, RTL overrides U+202E ...) are removed.
    name = "".join(ch for ch in name if unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co", "Cn"))
    name = re.sub(r"\s+", " ", name).strip()
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    stem = stem.strip(" .")  # names of only dots or spaces become "file"
    # The extension shown is the real type's, so a renamed file cannot pose as something else.
    if ext.lower() not in _ALIASES.get(extension, {extension}):
        ext = extension
    if not stem:
        stem = "file"
    stem = stem[: MAX_NAME - len(ext) - 1]
    return f"{stem}.{ext.lower()}"


_ALIASES = {"jpg": {"jpg", "jpeg"}, "txt": {"txt", "text", "csv"}}
