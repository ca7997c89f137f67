# Registers the SQL function behind SQLite's search index on every connection (see search.py).
from tracker.items import search  # noqa: F401
