"""The 整改情况报告 of an evaluation: a draft the coordinator edits (overview counts, each problem
with its items, measures, progress to date, results and evidence on file, then what is still open)."""
from __future__ import annotations

import datetime as dt

from flask_babel import force_locale
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from tracker import clock
from tracker.evaluations.models import Evaluation, Finding
from tracker.extensions import db
from tracker.items import presentation
from tracker.items.models import ClosureResult, Item, Status
from tracker.reports import documents
from tracker.reports.export import evidence_names, latest_progress

TEMPLATE = "progress_report.docx"
CHINESE_NUMBERS = "一二三四五六七八九十"


def chinese_number(n: int) -> str:
    """1 → 一, 12 → 十二, 21 → 二十一 (the numbering of 二级标题 （一）（二）…)."""
    if n <= 10:
        return CHINESE_NUMBERS[n - 1]
    tens, units = divmod(n, 10)
    return (CHINESE_NUMBERS[tens - 1] if tens > 1 else "") + "十" + (CHINESE_NUMBERS[units - 1] if units else "")


def context(evaluation: Evaluation, today: dt.date, office: str | None) -> dict:
    """What the draft report says as of `today` (drafts not handed out are not in it)."""
    items = db.session.scalars(
        select(Item).join(Finding, Finding.id == Item.finding_id)
        .where(Finding.evaluation_id == evaluation.id, Item.status != Status.DRAFT)
        .options(selectinload(Item.lead_unit), selectinload(Item.cooperating_units), selectinload(Item.finding))
        .order_by(Item.finding_id, Item.id)).all()
    ids = [i.id for i in items]
    progress, evidence = latest_progress(ids), evidence_names(ids)
    counted = [i for i in items if i.status != Status.CANCELLED]
    closed = [i for i in counted if i.status == Status.CLOSED]
    open_items = [i for i in counted if i.status != Status.CLOSED]
    counts = {
        "problems": len({i.finding_id for i in counted}), "total": len(counted), "closed": len(closed),
        "rectified": sum(1 for i in closed if i.closure_result == ClosureResult.RECTIFIED),
        "ongoing": sum(1 for i in closed if i.closure_result == ClosureResult.ONGOING),
        "open": len(open_items), "overdue": sum(1 for i in open_items if i.deadline < today),
        "cancelled": len(items) - len(counted),
    }
    with force_locale("zh_CN"):
        status_labels = {k: str(v) for k, v in presentation.STATUS_LABELS.items()}
        result_labels = {k: str(v) for k, v in presentation.RESULT_LABELS.items()}
    problems: list[dict] = []
    for item in counted:
        if not problems or problems[-1]["finding_id"] != item.finding_id:
            problems.append({"finding_id": item.finding_id, "number": chinese_number(len(problems) + 1),
                             "text": item.finding.text, "entries": []})
        latest = progress.get(item.id)
        progress_text = f"完成{item.progress_percent}%"
        if latest:
            progress_text += f"。{documents.chinese_date(clock.local_date(latest.created_at))}报送：{latest.body}"
        files = evidence.get(item.id, [])
        problems[-1]["entries"].append({
            "number": len(problems[-1]["entries"]) + 1, "title": item.title, "lead_unit": item.lead_unit.name,
            "cooperating_units": "、".join(u.name for u in item.cooperating_units),
            "deadline": documents.chinese_date(item.deadline), "status": status_labels[item.status],
            "measures": documents.lines(item.measures), "progress": documents.lines(progress_text),
            "result": (result_labels[item.closure_result] + f"（{documents.chinese_date(clock.local_date(item.closed_at))}销号）"
                       if item.status == Status.CLOSED and item.closure_result else "尚未销号"),
            "evidence": f"{len(files)}份：" + "、".join(files) if files else "暂无",
        })
    open_lines = [{"number": n, "title": i.title, "lead_unit": i.lead_unit.name,
                   "deadline": documents.chinese_date(i.deadline),
                   "state": f"逾期{(today - i.deadline).days}天" if i.deadline < today else status_labels[i.status]}
                  for n, i in enumerate(sorted(open_items, key=lambda i: (i.deadline, i.id)), start=1)]
    return {"evaluation": {"title": evaluation.title, "issuing_body": evaluation.issuing_body or "县人民政府"},
            "as_of": documents.chinese_date(today), "counts": counts, "problems": problems,
            "open_items": open_lines, "office": office or "整改工作领导小组办公室"}
