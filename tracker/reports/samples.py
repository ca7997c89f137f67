"""The sample sheets offered on the import page: the columns an import reads, two example rows."""
from __future__ import annotations

import datetime as dt

from tracker.reports.sheet import INDICATOR_COLUMNS, LEDGER_COLUMNS, Column

IMPORTED_KEYS = ("seq", "source", "problem", "title", "target", "measures", "responsible_leader", "lead_unit",
                 "cooperating_units", "owner", "deadline", "kind", "remarks")

LEDGER_ROWS = [
    {"seq": 1, "source": "3.2.1", "problem": "教师结构性短缺，农村学校音体美等学科教师不足。",
     "title": "补充农村学校音体美教师", "target": "2026年底前音体美学科专任教师配备达标。",
     "measures": "1. 核定编制并公开招聘；2. 开展县域内教师交流轮岗。", "responsible_leader": "副县长",
     "lead_unit": "县教育局人事股", "cooperating_units": "县委编办、县人社局", "owner": "",
     "deadline": dt.date(2026, 12, 31), "kind": "限期整改", "remarks": ""},
    {"seq": 2, "source": "2.1.3", "problem": "特殊教育学校尚未建立。", "title": "建成特殊教育学校",
     "target": "2027年秋季学期招生。", "measures": "立项、用地划拨、建设、竣工验收。",
     "responsible_leader": "县长", "lead_unit": "县发改委", "cooperating_units": "县住建局、县残联",
     "owner": "", "deadline": "2027年6月30日", "kind": "长期坚持", "remarks": ""},
]
INDICATOR_ROWS = [
    {"code": "1", "name": "教育投入", "self_rating": "", "score": None},
    {"code": "1.1", "name": "经费保障", "self_rating": "", "score": None},
    {"code": "1.1.1", "name": "一般公共预算教育支出逐年只增不减", "self_rating": "完全落实", "score": 3},
    {"code": "1.1.2", "name": "按在校学生人数平均的一般公共预算教育支出逐年只增不减", "self_rating": "基本落实",
     "score": 2.5},
]


def sheet(kind: str) -> tuple[tuple[Column, ...], list[dict]]:
    if kind == "indicators":
        return INDICATOR_COLUMNS, INDICATOR_ROWS
    return tuple(c for c in LEDGER_COLUMNS if c.key in IMPORTED_KEYS), LEDGER_ROWS
