"""Links to many rows of one kind (a table's items, an item's files) at the cost of one url_for."""
from __future__ import annotations

from collections.abc import Callable

from flask import url_for

# An id every URL rule accepts (see DatabaseId); the last occurrence in the URL is the row's.
_MARK = 2**31 - 1


def link_maker(endpoint: str, key: str, **values) -> Callable[[int], str]:
    """url_for(endpoint, **values, key=id) for any id: built once, each id put in afterwards."""
    head, _mark, tail = url_for(endpoint, **{key: _MARK}, **values).rpartition(str(_MARK))
    return lambda row_id: f"{head}{int(row_id)}{tail}"
