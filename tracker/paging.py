"""Page numbers from links: whatever a link or a person typed, a page the database can be asked for."""
from __future__ import annotations

PAGE_MAX = 2**31 - 1  # an OFFSET past this overflows PostgreSQL's bigint and SQLite's integer


def page_arg(args, name: str = "page") -> int:
    """The page asked for; absent, not a number or out of range: the first page."""
    try:
        page = int(args.get(name, 1))
    except (TypeError, ValueError):
        return 1
    return page if 1 <= page <= PAGE_MAX else 1
