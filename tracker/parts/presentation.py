"""How a part reads: its status labels and its traffic light (the item's rule, on the part's deadline)."""
from __future__ import annotations

import datetime as dt

from tracker.items.lights import Light, light_settings
from tracker.items.models import LIVE_STATUSES
from tracker.items.presentation import PART_STATUS_LABELS
from tracker.parts.models import OPEN_PART_STATUSES, PartStatus

# The journal's labels (items.presentation) are the page's.
STATUS_LABELS = {status: PART_STATUS_LABELS[status.value] for status in PartStatus}


def light_of(status: PartStatus, deadline: dt.date, item_status, today: dt.date) -> Light:
    """red: open past its deadline; yellow: open and due within the warning window, or not yet
    acknowledged; green: open otherwise; done, cancelled and parts of finished items have none."""
    if status not in OPEN_PART_STATUSES or item_status not in LIVE_STATUSES:
        return Light.NONE
    if deadline < today:
        return Light.RED
    if status == PartStatus.PENDING or deadline <= today + dt.timedelta(days=light_settings()[0]):
        return Light.YELLOW
    return Light.GREEN
