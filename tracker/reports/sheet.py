"""The ledger sheet (整改台账) as offices know it: its columns, headers and cell hygiene.

Headers are part of a file format, not of the interface: an export carries the Chinese headers
(or the English ones for an English-speaking user) and an import recognises either, whatever the
state of the translation catalogue.
"""
from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    key: str
    zh: str
    en: str
    width: int                      # characters, for the xlsx
    aliases: tuple[str, ...] = ()   # other header texts seen in the wild


LEDGER_COLUMNS: tuple[Column, ...] = (
    Column("seq", "序号", "No.", 6, ("编号",)),
    Column("source", "问题来源", "Source", 24, ("来源", "问题来源（评价/指标）", "指标", "source (evaluation/indicator)")),
    Column("problem", "存在问题", "Problem", 40, ("问题表现", "反馈问题", "存在的问题", "问题描述", "问题", "反馈的问题", "problem found")),
    Column("title", "整改事项", "Item", 30, ("事项", "事项名称", "title")),
    Column("target", "整改目标", "Target", 30, ("目标",)),
    Column("measures", "整改措施", "Measures", 40, ("具体措施", "措施", "主要措施", "具体整改措施")),
    Column("responsible_leader", "责任领导", "Responsible leader", 12, ("分管领导", "leader")),
    Column("lead_unit", "牵头单位", "Lead unit", 18, ("责任单位", "牵头部门", "整改责任单位", "lead")),
    Column("cooperating_units", "配合单位", "Cooperating units", 22, ("协办单位", "配合部门", "cooperating")),
    Column("owner", "责任人", "Owner", 10, ("负责人", "具体负责人", "责任人员", "responsible person")),
    Column("deadline", "整改时限", "Deadline", 12, ("完成时限", "时间节点", "时限", "整改期限", "完成时间", "due date")),
    Column("kind", "整改类型", "Type", 10, ("类型", "item type")),
    Column("progress", "进展情况", "Progress", 40, ("整改进展", "进展")),
    Column("status", "完成情况/状态", "Status", 12, ("完成情况", "状态", "完成情况（状态）")),
    Column("light", "红黄绿灯", "Light", 8, ("灯", "预警")),
    Column("days_overdue", "逾期天数", "Days overdue", 8),
    Column("evidence", "佐证材料", "Evidence", 24, ("佐证", "证明材料")),
    Column("closed_on", "销号时间", "Closed on", 12, ("销号日期", "closure date")),
    Column("remarks", "备注", "Remarks", 24, ("notes", "note")),
)

INDICATOR_COLUMNS: tuple[Column, ...] = (
    Column("code", "指标编号", "Code", 10, ("编号", "序号", "指标代码")),
    Column("name", "指标名称", "Indicator", 50, ("指标", "评价指标", "评价内容", "name")),
    Column("self_rating", "自评结果", "Self-rating", 12, ("自评等次", "自评", "评价结果", "rating")),
    Column("score", "分值", "Score", 8, ("得分", "分数")),
)

_SPACES = re.compile(r"[\s\u3000*＊:：]+")
_PARENS = str.maketrans({"（": "(", "）": ")", "／": "/"})


def normalise_header(text: object) -> str:
    """Header text reduced for matching: no spaces, stars or colons, ASCII brackets, lower case."""
    return _SPACES.sub("", str(text or "")).translate(_PARENS).lower()


def header_index(columns: tuple[Column, ...]) -> dict[str, str]:
    """normalised header text -> column key, for every known spelling of every column."""
    index: dict[str, str] = {}
    for column in columns:
        for text in (column.zh, column.en, *column.aliases):
            index.setdefault(normalise_header(text), column.key)
    return index


FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def is_dangerous(text: str) -> bool:
    """A spreadsheet would read this text as a formula (formula injection)."""
    return text.startswith(FORMULA_TRIGGERS)


def neutralised(text: str) -> str:
    """Text made inert for CSV: a leading apostrophe, as spreadsheets expect."""
    return "'" + text if is_dangerous(text) else text
