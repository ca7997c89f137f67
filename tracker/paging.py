"""Page numbers and periods from links: whatever a link or a person typed, a page the database can
be asked for, or a period with the words of what is wrong with it."""
from __future__ import annotations

import datetime as dt

from tracker.i18n import gettext as _

PAGE_MAX = 2**31 - 1  # times a page size, still an OFFSET that PostgreSQL and SQLite can take


def page_arg(args, name: str = "page") -> int:
    """The page asked for: absent, not a number or below 1: the first; past any real page: the
    largest the database can be asked for (pages that clamp to their last page show that)."""
    try:
        page = int(args.get(name, 1))
    except (TypeError, ValueError):
        return 1
    return min(page, PAGE_MAX) if page >= 1 else 1


def period_args(raw: dict[str, str]) -> tuple[dt.date | None, dt.date | None, dict[str, str]]:
    """`raw`'s "start" and "end" (YYYY-MM-DD, both included) as dates, and an error (field: message)
    for each that is not one, or for an end before the start."""
    days, errors = {}, {}
    for key in ("start", "end"):
        if raw.get(key):
            try:
                days[key] = dt.date.fromisoformat(raw[key].strip())
            except ValueError:
                errors[key] = _("Enter the date as YYYY-MM-DD, e.g. 2026-01-31.")
    start, end = days.get("start"), days.get("end")
    if start and end and end < start:
        errors["end"] = _("The period ends (%(end)s) before it starts (%(start)s). Swap the two dates.",
                          end=end.isoformat(), start=start.isoformat())
    return start, end, errors
