"""Page numbers from links: whatever a link or a person typed, a page the database can be asked for."""
from __future__ import annotations

PAGE_MAX = 2**31 - 1  # times a page size, still an OFFSET that PostgreSQL and SQLite can take


def page_arg(args, name: str = "page") -> int:
    """The page asked for: absent, not a number or below 1: the first; past any real page: the
    largest the database can be asked for (pages that clamp to their last page show that)."""
    try:
        page = int(args.get(name, 1))
    except (TypeError, ValueError):
        return 1
    return min(page, PAGE_MAX) if page >= 1 else 1
