"""How a part reads: its status labels and its traffic light (the item's rule, on the part's deadline)."""
from __future__ import annotations

import datetime as dt

from tracker.i18n import lazy_gettext as _l
from tracker.items.lights import Light, light_settings
from tracker.items.models import LIVE_STATUSES
from tracker.parts.models import OPEN_PART_STATUSES, PartStatus

STATUS_LABELS = {PartStatus.PENDING: _l("Waiting for acknowledgement"), PartStatus.IN_PROGRESS: _l("Under way"),
                 PartStatus.DONE: _l("Reported done"), PartStatus.RETURNED: _l("Returned for more"),
                 PartStatus.CANCELLED: _l("Cancelled")}


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
