"""Each cooperating unit's part (会签/分办) of an item: what it is asked to do, its own deadline,
签收, progress, evidence and 反馈, which the lead unit may return. Built on items and evidence (they
never import it): it adds its checks and its part of the item page through tracker.items.hooks."""
