"""Every page, for every role, in Chinese and in English, shows what its reader needs: the page's
title, the unit names, item titles and numbers of the demo ledger, and nothing a person should never
read (`<built-in method …>`, `None`, a template left unrendered, an English message in the Chinese
page, a raw key such as `add_requirement`).

The routes come from app.url_map: a new GET page fails `test_every_page_is_listed` until PAGES says
what it shows (or EXCLUDED why it is not checked here). The data is the demo (tracker/demo.py), built
once for the module, with the reminder scan run and the inspection's actions taken once each.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

import pytest
from sqlalchemy import text
from babel.messages.pofile import read_po
from docx import Document
from openpyxl import load_workbook

from tests.helpers import ROOT, TODAY, ApiClient, Browser, empty_database
from tracker import clock, demo
from tracker.api import tokens
from tracker.auth.models import User
from tracker.evaluations.models import Evaluation
from tracker.evidence import services as evidence
from tracker.evidence.models import Evidence
from tracker.extensions import db
from tracker.inspection import jobs as inspection_jobs, services as inspection
from tracker.items import services as item_services
from tracker.items.models import Item, Status
from tracker.notifications import reminders
from tracker.reports import notices
from tracker.units.models import Unit

ROLES = ("admin", "inspector", "leader", "head", "staff", "other")
# The demo accounts playing each role; `other` is a head of a unit with no part in the head's items.
ACCOUNTS = {"admin": "admin", "inspector": "inspector", "leader": "leader", "head": "head-edu-personnel",
            "staff": "staff-edu-personnel", "other": "head-disabled"}
EVERYONE = frozenset(ROLES)
READERS = frozenset({"admin", "inspector", "leader"})
ADMIN = frozenset({"admin"})
DECIDERS = frozenset({"admin", "inspector"})
ITEM = EVERYONE - {"other"}  # pages of the head's own item: another unit gets 404, like a missing item

# The demo's words, written out once.
POSTING = "落实城乡教师轮岗交流机制"       # 县教育局人事股's item, submitted, with two PDFs (the head's item)
TEACHERS = "补充音乐、美术、体育等紧缺学科专业教师"  # 县教育局人事股's item, due in 5 days
ESCALATED = "建立书记、校长履职监督和科学评价机制"  # 县教育局's item, 10 days overdue, escalated
HOME_VISITS = "对不能到校的重度残疾儿童开展送教上门"  # 县残联's item (the `other` head's unit)
PERSONNEL, EDU, DISABLED = "县教育局人事股", "县教育局", "县残联"
SELF_EVALUATION = "新源县人民政府履行教育职责情况自评（2019年度）"


@dataclass(frozen=True)
class Say:
    """Words that differ by language."""
    en: str
    zh: str

    def __call__(self, lang: str) -> str:
        return self.zh if lang == "zh_CN" else self.en


@dataclass(frozen=True)
class Page:
    """What a GET route shows. `title` is the page's heading (or each role's); `words` are read by
    every role in `who`, `also[role]` by that role too, `never[role]` not by that role (another
    unit's items). A word is a string, a `Say` (by language) or a tuple: a row, cells that follow
    each other. Roles outside `who` get 403, or 404 when in `hidden`. `ids` name URL values from the
    module's data (`ids={"item_id": "escalated_item_id"}`), `values` give them literally, `each`
    gives several (the page is read for each)."""
    title: str | Say | dict | None = None
    words: tuple = ()
    who: frozenset = EVERYONE
    hidden: frozenset = frozenset()
    also: dict = field(default_factory=dict)
    never: dict = field(default_factory=dict)
    ids: dict = field(default_factory=dict)
    values: dict = field(default_factory=dict)
    each: dict = field(default_factory=dict)
    kind: str = "html"  # html, json, sheet (csv or xlsx), docx or file (words are looked for in headers and bytes)
    redirect: dict = field(default_factory=dict)  # role -> where the page sends that role
    every: str = ""  # a URL value: the page is also read for every such object (no words checked)
    queries: tuple = ()  # more query strings everyone in `who` reads the page with (no words checked)


# What each role's item lists show (ledger, my items, the export, the API), and what they must not:
# the head's unit leads four items; 县残联 leads one and cooperates on one; readers see all eleven.
SEES = {**dict.fromkeys(READERS, (POSTING, ESCALATED, HOME_VISITS)), "head": (POSTING, TEACHERS),
        "staff": (POSTING, TEACHERS), "other": (HOME_VISITS, "建成新源县特殊教育学校")}
# Every item a unit's people open (others answer 404): the head's unit leads four, 县残联 one plus one.
OWN = (TEACHERS, "开展新入职非师范类教师岗前与在岗培训", POSTING, "组织教师普通话培训与测试")
UNIT_ITEMS = {"head": OWN, "staff": OWN, "other": (HOME_VISITS, "建成新源县特殊教育学校")}
NOT_SEEN = {"head": (ESCALATED, HOME_VISITS), "staff": (ESCALATED, HOME_VISITS), "other": (POSTING, TEACHERS)}
# The draft is the coordinator's: admins and inspectors count it, the leader does not see it.
COUNTED = {**dict.fromkeys(READERS, Say("11 items", "共 11 项")), "leader": Say("10 items", "共 10 项"), "head": Say("4 items", "共 4 项"),
           "staff": Say("4 items", "共 4 项"), "other": Say("2 items", "共 2 项")}
LEDGER = {role: (*SEES[role], COUNTED[role]) for role in ROLES}
# The dashboard's row per lead unit: items, open, closed, overdue, completion rate.
PERSONNEL_ROW = (PERSONNEL, "4", "3", "1", "0", "25%")
DISABLED_ROW = (DISABLED, "1", "1", "0", "1", "0%")
DASHBOARD = {**dict.fromkeys(READERS, (PERSONNEL_ROW, (EDU, "4", "4", "0", "1", "0%"), DISABLED_ROW)),
             "head": (PERSONNEL_ROW,), "staff": (PERSONNEL_ROW,), "other": (DISABLED_ROW,)}
DASHBOARD_OF = {**dict.fromkeys(READERS, Say("Dashboard", "工作看板")),
                "head": Say("Dashboard of 县教育局人事股", "县教育局人事股工作看板"),
                "staff": Say("Dashboard of 县教育局人事股", "县教育局人事股工作看板"),
                "other": Say("Dashboard of 县残联", "县残联工作看板")}
# The overdue report: 县教育局's escalated item (10 days, 2 reminders, one an escalation) and 县残联's.
OVERDUE = {**dict.fromkeys(READERS, ((ESCALATED, EDU, "县教育局负责人"), HOME_VISITS, Say("2 items", "共 2 项"))),
           "head": (Say("0 items", "共 0 项"),), "staff": (Say("0 items", "共 0 项"),),
           "other": ((HOME_VISITS, DISABLED, "县残联负责人"), Say("1 item", "共 1 项"))}

PAGES: dict[str, Page] = {
    "/": Page(redirect={"admin": "/items", "inspector": "/review", "leader": "/reports/", "head": "/my", "staff": "/my",
                        "other": "/my"}),
    "/login": Page(redirect=dict.fromkeys(ROLES, "/")),
    "/items": Page(title=Say("Rectification ledger", "整改台账"), also=LEDGER, never=NOT_SEEN, queries=(
        "?status=closed", "?light=red&sort=deadline", "?overdue=1&sort=-progress", "?q=教师&open=1",
        "?q=没有这样的事项", "?page=2", "?owner=999999&unit=abc&evaluation=-1", "?sort=nonsense")),
    "/my": Page(title=Say("My items", "我的事项"), also=SEES, never=NOT_SEEN,
                queries=("?open=1", "?overdue=1", "?mine=1", "?status=draft")),
    "/items/<int:item_id>": Page(
        title=POSTING, who=ITEM, hidden={"other"}, every="item_id",
        words=(PERSONNEL, "县人社局", "县教育局人事股负责人", "教师轮岗交流实施办法.pdf", "交流教师名单.pdf", "100%",
               "实施办法已印发，首批52名教师完成交流。", Say("Submitted for closure", "已申请销号"),
               # 县人社局's part of the item, reported done before the lead unit submitted
               Say("Cooperating units’ parts", "配合单位任务"), "人社局已完成交流教师岗位调整备案。",
               Say("Reported done", "已反馈"))),
    "/items/<int:item_id>/edit": Page(title=Say("Edit item 5", "编辑整改事项 5"), words=(POSTING, PERSONNEL),
                                      who=ADMIN),
    "/items/new": Page(title=Say("New item", "新增整改事项"), words=(PERSONNEL, "县教育局人事股负责人"), who=ADMIN),
    "/items/<int:item_id>/evidence/<int:evidence_id>": Page(words=("%PDF", "attachment"), who=ITEM, hidden={"other"},
                                                            kind="file"),
    "/items/<int:item_id>/evidence/<int:evidence_id>/preview": Page(words=("%PDF", "inline"), who=ITEM,
                                                                    hidden={"other"}, kind="file"),
    # The head's item is submitted: its evidence is frozen for the unit, readers never withdraw;
    # they are sent back to the item with the reason.
    "/items/<int:item_id>/evidence/<int:evidence_id>/withdraw": Page(
        title=Say("Withdraw a file", "撤回文件"), who=ADMIN, hidden={"other"}, words=("教师轮岗交流实施办法.pdf",),
        redirect={role: "/items/" for role in ("inspector", "leader", "head", "staff")}),
    "/evaluations/": Page(title=Say("Evaluation rounds", "评价批次"),
                          words=(("2019", SELF_EVALUATION, "新源县人民政府"),)),
    "/evaluations/<int:evaluation_id>": Page(title=SELF_EVALUATION, words=(
        ("1.2.2", "党组织领导下的校长负责制"), "特殊教育学校建设", Say("Fully implemented 27", "完全落实 27"))),
    "/review": Page(title=Say("Review queue", "销号审核"), who=READERS, words=(
        ("5", POSTING), PERSONNEL, "实施办法已印发，首批52名教师完成交流。", "消除高中56人以上大班额",
        "教学楼竣工验收推迟，需顺延至秋季学期开学前。", "组织教师普通话培训与测试")),
    # The reminder record: reminders, escalations and items per lead unit (the items column printed
    # `<built-in method items of dict object …>` until the rows stopped being dicts), and per
    # cooperating unit for its parts (县委组织部's part of an overdue item escalated).
    "/reminders": Page(title=Say("Reminder record", "催办记录"), who=READERS, words=(
        (EDU, "5", "1", "3"), (DISABLED, "3", "0", "2"), (PERSONNEL, "1", "0", "1"), ("县委组织部", "3", "1", "2"))),
    "/reminders/units/<int:unit_id>": Page(
        title=Say("Reminder record of 县教育局", "县教育局的催办记录"), who=READERS, ids={"unit_id": "edu_unit_id"},
        words=(ESCALATED, "建成新源县特殊教育学校", "县教育局负责人", "整改办 王主任", Say("Reminder no. 2", "第2次催办"),
               Say("Escalated: overdue by 10 days (deadline 2026-03-06)", "升级督办：已逾期 10 天（整改时限 2026-03-06）"),
               Say("Milestone “议事规则全县推开” due in 1 day (2026-03-17)", "时间节点“议事规则全县推开”将于 1 天后到期（2026-03-17）"))),
    "/reminders/units/<int:unit_id>.xlsx": Page(who=READERS, ids={"unit_id": "edu_unit_id"}, kind="sheet", words=(
        ESCALATED, "县教育局负责人", Say("Reminder no. 2", "第2次催办"))),
    # An item's own record (linked from the item page and from each row of the unit's record).
    "/reminders/items/<int:item_id>": Page(
        title=Say("Reminder record of item 2", "整改事项 2 的催办记录"), who=READERS, ids={"item_id": "escalated_item_id"},
        words=(ESCALATED, "县教育局负责人", Say("Reminder no. 2", "第2次催办"), Say("By e-mail", "邮件"))),
    "/reminders/items/<int:item_id>.xlsx": Page(who=READERS, ids={"item_id": "escalated_item_id"}, kind="sheet",
                                                words=(ESCALATED, "县教育局负责人")),
    "/reports/": Page(title=DASHBOARD_OF, also=DASHBOARD, queries=("?evaluation=1", "?evaluation=999999")),
    # Unit statistics (tracker/reports/stats.py): 县教育局 with its two sub-units rolled up, items led
    # and parts as a cooperating unit (the cooperating units that reported their parts rank first);
    # rank, unit, assigned, closed on time, closed late, still open, overdue now, longest overdue.
    "/reports/statistics": Page(title=Say("Unit statistics", "单位统计"), who=READERS, words=(
        ("5", EDU, "11", "1", "0", "10", "2", "10"), ("8", DISABLED, "2", "0", "0", "2", "1", "3"), PERSONNEL,
        Say("How the ranking is made", "排名规则")),
        # (bad filters answer 422 with the reason: tests/reports/test_statistics.py)
        queries=("?start=2026-01-01&end=2026-03-16", "?evaluation=1", "?start=2030-01-01")),
    "/reports/statistics.xlsx": Page(who=READERS, kind="sheet", words=(EDU, DISABLED, PERSONNEL)),
    "/reports/overdue": Page(title=Say("Overdue report", "逾期事项报表"), also=OVERDUE, never=NOT_SEEN),
    "/reports/units/<int:unit_id>": Page(
        title=Say("Unit report: 县教育局人事股", "单位报表: 县教育局人事股"), who=ITEM, hidden={"other"},
        words=(POSTING, TEACHERS, "组织教师普通话培训与测试", "25%", Say("Items led", "牵头事项"))),
    "/reports/items/<int:item_id>/notice": Page(
        title=Say("Supervision notice", "督办单"), who=DECIDERS, ids={"item_id": "escalated_item_id"},
        words=(ESCALATED, EDU, "县委组织部", "分管副县长 赵刚", Say("Mar 23, 2026", "2026-03-23"))),
    "/reports/papers": Page(title=Say("Papers", "公文材料"), who=READERS, words=(SELF_EVALUATION,)),
    "/reports/notices/<int:notice_id>.docx": Page(
        kind="docx", who=READERS, hidden={"head", "staff", "other"}, ids={"notice_id": "notice_id"},
        words=("督 办 单", "〔2026〕第1号", ESCALATED, EDU)),
    "/reports/evaluations/<int:evaluation_id>/report.docx": Page(
        kind="docx", who=READERS, ids={"evaluation_id": "evaluation_id"},
        words=(f"关于{SELF_EVALUATION}反馈问题整改情况的报告", "二、问题整改情况", ESCALATED)),
    "/reports/circular.docx": Page(kind="docx", who=READERS, redirect=dict.fromkeys(READERS, "/reports/papers"),
                                   queries=("?start=2026-02-01&end=2026-03-16",)),
    "/reports/ledger.<any(xlsx, csv):fmt>": Page(also=SEES, never=NOT_SEEN, each={"fmt": ("csv", "xlsx")},
                                                 kind="sheet"),
    "/reports/import": Page(title=Say("Import a sheet", "导入表格"), words=(SELF_EVALUATION,), who=ADMIN),
    "/reports/import/<token>": Page(title=Say("Import preview", "导入预览"), who=ADMIN, words=(
        "台账.xlsx", PERSONNEL, "建成特殊教育学校")),   # the item's title is an input there (editable)
    "/reports/import/sample-<any(ledger, indicators):kind>.xlsx": Page(
        who=ADMIN, values={"kind": "ledger"}, kind="sheet", words=("补充农村学校音体美教师", PERSONNEL)),
    "/admin/units": Page(title=Say("Units", "单位管理"), who=ADMIN, words=(
        (EDU, "edu"), (PERSONNEL, "edu-personnel", EDU), (DISABLED, "disabled"))),
    "/admin/units/new": Page(title=Say("New unit", "新增单位"), who=ADMIN, words=(EDU,)),
    "/admin/units/<int:unit_id>": Page(title=PERSONNEL, words=("edu-personnel", EDU), who=ADMIN),
    "/admin/users": Page(title=Say("Users", "用户管理"), who=ADMIN, words=(
        ("head-edu-personnel", "县教育局人事股负责人"), ("staff-edu-personnel", "人事股联络员 马丽"))),
    "/admin/users/new": Page(title=Say("New user", "新增用户"), who=ADMIN, words=(PERSONNEL,)),
    "/admin/users/<int:user_id>": Page(title="head-edu-personnel", who=ADMIN, words=(
        "县教育局人事股负责人", "head-edu-personnel@rectify.example")),
    "/admin/outbox": Page(title=Say("Outbox", "发件箱"), who=ADMIN, queries=("?status=failed", "?page=2"), words=(
        # 县教育局负责人 hears of its items and, escalated, of its cooperating units' late parts.
        "县教育局负责人 <head-edu@rectify.example>", "【整改通】升级督办：10 项整改事项需要处理")),
    "/notifications": Page(title=Say("My notifications", "我的通知"), also={
        "admin": (ESCALATED, HOME_VISITS), "head": (TEACHERS,), "other": (HOME_VISITS,)}),
    "/profile": Page(title=Say("Profile", "个人设置"), also={
        "head": ("县教育局人事股负责人", PERSONNEL, "head-edu-personnel@rectify.example")}),
    "/profile/password": Page(title=Say("Change password", "修改密码")),
    "/profile/tokens": Page(title=Say("API tokens", "API 令牌"), also={
        role: (f"省平台对接（{role}）",) for role in ROLES}),
    "/healthz": Page(kind="json", words=("reachable",)),
    "/static/<path:filename>": Page(kind="file", words=("body",)),
    "/api/v1/openapi.json": Page(kind="json", words=("/items/{item_id}",)),
    "/api/v1/me": Page(kind="json", also={role: (name,) for role, name in ACCOUNTS.items()}),
    "/api/v1/items": Page(kind="json", also=SEES, never=NOT_SEEN,
                          queries=("?status=closed", "?q=教师", "?per_page=1&page=2", "?mine=1")),
    "/api/v1/items/<int:item_id>": Page(kind="json", words=(POSTING, PERSONNEL, "教师轮岗交流实施办法.pdf"), who=ITEM,
                                        hidden={"other"}),
    "/api/v1/items/<int:item_id>/evidence/<int:evidence_id>": Page(kind="file", words=("%PDF",), who=ITEM,
                                                                   hidden={"other"}),
    "/api/v1/statistics": Page(kind="json", who=READERS, words=(EDU, DISABLED, PERSONNEL, "on_time_rate")),
    "/api/v1/units": Page(kind="json", words=(PERSONNEL, EDU, DISABLED)),
    "/api/v1/evaluations": Page(kind="json", words=(SELF_EVALUATION,)),
}

# GET routes this module does not render, each with the reason.
EXCLUDED: dict[str, str] = {
}


def test_every_page_is_listed(app):
    """A new GET route is listed in PAGES (what it shows) or EXCLUDED (why not here)."""
    rules = {rule.rule for rule in app.url_map.iter_rules() if "GET" in rule.methods}
    missing = sorted(rules - set(PAGES) - set(EXCLUDED))
    assert not missing, f"GET routes not checked by tests/test_every_page.py: add them to PAGES: {missing}"
    assert not set(PAGES) & set(EXCLUDED)
    assert not (set(PAGES) | set(EXCLUDED)) - rules, "PAGES or EXCLUDED name a route that is gone"


# -- the data: the demo, then one of each action the demo does not take --------------------------

@pytest.fixture(autouse=True)
def _fresh_state():
    """Replaces conftest's: the module's data stays from test to test (it is emptied at the end)."""
    clock.freeze(TODAY)
    yield
    clock.freeze(None)


def _by(model, **where):
    return db.session.query(model).filter_by(**where).one()


def _act_once_each() -> dict:
    """The reminder scan, an approved and a refused extension, listed supervision set and lifted,
    a withdrawn file, re-checks scheduled, reminded and recorded, an API token per role.
    Returns the ids the pages' URLs use."""
    users = {role: _by(User, username=name) for role, name in ACCOUNTS.items()}
    item = {title: _by(Item, title=title) for title in (POSTING, TEACHERS, ESCALATED, HOME_VISITS)}
    admin, inspector, head = users["admin"], users["inspector"], users["head"]
    party = _by(Item, title="推行书记校长交叉任职，落实党组织领导下的校长负责制")
    item_services.add_milestone(admin, party, "议事规则全县推开", TODAY + dt.timedelta(days=1))
    reminders.scan(TODAY)
    training = _by(Item, title="开展新入职非师范类教师岗前与在岗培训")
    request = inspection.request_extension(head, training, training.deadline + dt.timedelta(days=30), "培训场地改造")
    inspection.decide_extension(inspector, training, request.id, True, "同意")
    request = inspection.request_extension(users["admin"], party, party.deadline + dt.timedelta(days=60), "换届")
    inspection.decide_extension(inspector, party, request.id, False, "不符合延期条件")
    inspection.set_listed_supervision(inspector, item[TEACHERS], True)
    inspection.set_listed_supervision(inspector, item[TEACHERS], False)
    layout = _by(Item, title="优化城乡学校布局规划")
    evidence.withdraw(admin, layout, _by(Evidence, item_id=layout.id), "上传错了版本")
    closed = _by(Item, title="组织教师普通话培训与测试")
    earlier = inspection.schedule_recheck(inspector, closed, TODAY)
    inspection.record_recheck(inspector, closed, earlier.id, False, "")
    inspection.schedule_recheck(inspector, closed, TODAY)
    inspection_jobs.remind_due_rechecks(TODAY)
    secrets = {role: tokens.create_token(user, f"省平台对接（{role}）", None)[1] for role, user in users.items()}
    notice = notices.issue(inspector, item[ESCALATED], "请于一周内报送整改进展。", TODAY + dt.timedelta(days=7), TODAY)
    db.session.commit()  # the services flush; the caller commits
    return {"secrets": secrets, "every": {"item_id": dict(db.session.query(Item.id, Item.title).filter(Item.status != Status.DRAFT))},
            "item_id": item[POSTING].id, "escalated_item_id": item[ESCALATED].id,
            "evidence_id": _by(Evidence, original_name="教师轮岗交流实施办法.pdf").id,
            "unit_id": _by(Unit, name=PERSONNEL).id, "edu_unit_id": _by(Unit, name=EDU).id,
            "user_id": head.id, "evaluation_id": _by(Evaluation, title=SELF_EVALUATION).id,
            "filename": "app.css", "notice_id": notice.id}


def _restart_ids() -> None:
    """PostgreSQL keeps counting ids across deleted rows (SQLite starts again from the highest
    left, none): the pages name items by number, so the demo's must be the same on both."""
    if db.engine.dialect.name != "postgresql":
        return
    with db.engine.begin() as connection:
        for (name,) in connection.execute(text(
                "SELECT sequence_name FROM information_schema.sequences WHERE sequence_schema = current_schema()")):
            connection.execute(text(f'ALTER SEQUENCE "{name}" RESTART'))


@pytest.fixture(scope="module")
def data(app, tmp_path_factory):
    """The demo and the actions above, once for the module; an import waiting for its preview."""
    clock.freeze(TODAY)
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(app.config, "IMPORT_DIR", str(tmp_path_factory.mktemp("imports")))
        try:
            with app.app_context():
                _restart_ids()  # the demo's ids as on a fresh database, whatever ran before
                demo.seed(TODAY)
                clock.freeze(TODAY)
                ids = _act_once_each()
                db.session.remove()
            admin = Browser(app)
            admin.login("admin", demo.DEMO_PASSWORD)
            sample = admin.get("/reports/import/sample-ledger.xlsx").data
            preview = admin.post("/reports/import", {"kind": "ledger", "evaluation_id": ids["evaluation_id"],
                                                     "file": (io.BytesIO(sample), "台账.xlsx")})
            assert preview.status_code == 302, preview.text
            ids["token"] = preview.headers["Location"].rsplit("/", 1)[1]
            yield ids
        finally:  # the next module starts from an empty database, as conftest promises
            empty_database(app)
            clock.freeze(None)


# -- what a page must never show -------------------------------------------------------------------

def _chinese_catalogue() -> list:
    path = ROOT / "tracker" / "translations" / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as f:
        return [m for m in read_po(f) if m.id and m.string]


# The interface's words that differ between the languages: an English msgid in a Chinese page, or
# a Chinese translation (without placeholders) in an English page, was not translated.
CATALOGUE = _chinese_catalogue()
ENGLISH_MSGIDS = frozenset(m.id for m in CATALOGUE if isinstance(m.id, str) and m.string != m.id)
CHINESE_WORDS = frozenset(m.string for m in CATALOGUE
                          if isinstance(m.string, str) and m.string != m.id and "%" not in m.string)
NEVER = [(re.compile(pattern), why) for pattern, why in (
    (r"<built-in method|<bound method|bound method|<function |object at 0x", "a Python object's repr"),
    (r"\bNone\b", "None"),
    (r"Undefined|\{\{|\}\}|\{%|%\}|\{#", "a template left unrendered"),
    (r"%\(\w+\)[sd]|%s\b|%d\b", "a message's placeholder"),
    (r"Traceback|\b\w+(Error|Exception)\(", "an exception"),
    (r"\b[A-Z][A-Za-z]+\.[A-Z][A-Z_]{2,}\b", "an enum's repr"),
    (r"\(（|（\(|）\)|\)）", "brackets around brackets"),
    (r"\b1 (items|days|reminders|escalations|rows|files|units|indicators|re-checks)\b", "a plural for one"),
    (r"\b(?!rct_)[a-z]+(_[a-z0-9]+)+\b", "a raw key"),  # (rct_ starts an API token)
)]
NAMES_FOR_PROGRAMS = ("an enum's repr", "a raw key")
RAW_LABEL = re.compile(r"^[a-z][a-z0-9_]*:$")  # a field name where its label belongs ("sha256:")


class _Text(HTMLParser):
    """The text a person reads: text nodes and the attributes shown or spoken."""
    SHOWN = ("title", "placeholder", "aria-label", "alt", "data-label")
    TYPED = (None, "text", "search", "date", "number", "email", "url")  # inputs whose value is shown

    def __init__(self):
        super().__init__()
        self.nodes: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag, attrs):
        self._hidden += tag in ("script", "style")
        shown = self.SHOWN + (("value",) if tag == "input" and dict(attrs).get("type") in self.TYPED else ())
        self.nodes += [value.strip() for name, value in attrs if name in shown and value and value.strip()]

    def handle_endtag(self, tag):
        self._hidden -= tag in ("script", "style")

    def handle_data(self, data):
        if not self._hidden and data.strip():
            self.nodes.append(data.strip())


def shown_text(html: str) -> list[str]:
    parser = _Text()
    parser.feed(html)
    return parser.nodes


def wrong_things(nodes: list[str], lang: str, kind: str = "html") -> list[str]:
    """What no reader should see, each with the text it was found in. (JSON is for programs: its
    keys and enum values are raw keys by design.)"""
    found = []
    for node in nodes:
        found += [f"{why}: {node[:120]!r}" for pattern, why in NEVER
                  if pattern.search(node) and not (kind == "json" and why in NAMES_FOR_PROGRAMS)]
        if RAW_LABEL.match(node):
            found.append(f"a field name instead of its label: {node!r}")
        if lang == "en" and kind == "html" and node in CHINESE_WORDS:
            found.append(f"Chinese words of the interface in the English page: {node!r}")
        if lang == "zh_CN" and kind != "json" and node in ENGLISH_MSGIDS:
            found.append(f"English in the Chinese page: {node!r}")
    return found


BROKEN_LINK = re.compile(r'(?:href|src|action)="[^"]*\b(?:None|Undefined)\b')


def _url(rule: str, values: dict) -> str:
    return re.sub(r"<(?:[^>]*:)?(\w+)>", lambda m: str(values[m.group(1)]), rule)


def _values(page: Page, data: dict) -> dict:
    return {**data, **{name: data[key] for name, key in page.ids.items()}, **page.values}


def _read(response, kind: str) -> tuple[list[str], str]:
    """(the text nodes a person reads, the raw text searched for broken links)."""
    if kind == "html":
        return shown_text(response.text), response.text
    if kind == "json":
        values = []

        def strings(value):
            if isinstance(value, dict):
                values.extend(str(k) for k in value)
                [strings(v) for v in value.values()]
            elif isinstance(value, list):
                [strings(v) for v in value]
            elif value is not None:
                values.append(str(value))
        strings(response.get_json())
        return values, ""
    if kind == "sheet" and response.mimetype == "text/csv":
        rows = csv.reader(io.StringIO(response.data.decode("utf-8-sig")))
        return [cell for row in rows for cell in row if cell.strip()], ""
    if kind == "docx":
        document = Document(io.BytesIO(response.data))
        cells = [cell.text for table in document.tables for row in table.rows for cell in row.cells]
        return [p.text for p in document.paragraphs if p.text.strip()] + [c for c in cells if c.strip()], ""
    if kind == "sheet":
        book = load_workbook(io.BytesIO(response.data), read_only=True)
        return [str(cell) for sheet in book for row in sheet.iter_rows(values_only=True)
                for cell in row if cell is not None], ""
    return [response.headers.get("Content-Disposition", ""), response.data.decode("latin-1")], ""


HEADING = re.compile(r"<h1\b[^>]*>(.*?)</h1>", re.S)


def _in(word, lang: str):
    return word(lang) if isinstance(word, Say) else word


def _reads(text: str, word, lang: str) -> bool:
    """Whether the text nodes (one a line) hold the word, or the row's cells one after the other."""
    if isinstance(word, tuple):
        return "\n" + "\n".join(word) + "\n" in "\n" + text + "\n"
    return _in(word, lang) in text


def check(response, page: Page, role: str, lang: str) -> list[str]:
    """What is wrong with one page as one role reads it in one language."""
    if role in page.redirect:
        where = response.headers.get("Location", "")
        return [] if response.status_code == 302 and where.startswith(page.redirect[role]) else [
            f"expected a redirect to {page.redirect[role]}, got {response.status_code} {where}"]
    want = 200 if role in page.who else 404 if role in page.hidden else 403
    if response.status_code != want:
        return [f"expected {want}, got {response.status_code}"]
    if want != 200:  # the error page (or the API's error): checked for what it must never show
        page, kind = Page(), "json" if response.is_json else "html"
    else:
        kind = page.kind
    nodes, raw = _read(response, kind)
    text = "\n".join(nodes)
    problems = [f"missing {_in(word, lang)!r}" for word in (*page.words, *page.also.get(role, ()))
                if not _reads(text, word, lang)]
    problems += [f"shows {word!r}" for word in page.never.get(role, ()) if word in text]
    title = page.title.get(role) if isinstance(page.title, dict) else page.title
    if title is not None:
        headings = [" ".join(shown_text(h)) for h in HEADING.findall(response.text)]
        if headings != [_in(title, lang)]:
            problems.append(f"the heading is {headings}, not {_in(title, lang)!r}")
    if kind != "file":
        problems += wrong_things(nodes, lang, kind)
    problems += [f"a broken link: {m.group(0)!r}" for m in BROKEN_LINK.finditer(raw)]
    return problems


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
@pytest.mark.parametrize("role", ROLES)
def test_every_page_shows_what_its_reader_needs(app, data, role, lang):
    """Each page as one role reads it in one language: the expected status, or its title and the
    demo's names and numbers, and nothing that should never be shown."""
    browser = Browser(app)
    assert browser.login(ACCOUNTS[role], demo.DEMO_PASSWORD).status_code == 302
    api = ApiClient(app, data["secrets"][role])
    failures = []
    for rule, page in sorted(PAGES.items()):
        client = api if rule.startswith("/api/") else browser
        values = _values(page, data)
        visits = [(_url(rule, {**values, name: one}), page) for name, ones in page.each.items() for one in ones]
        visits = visits or [(_url(rule, values), page)]
        visits += [(_url(rule, values) + query, Page(who=page.who, hidden=page.hidden, kind=page.kind))
                   for query in page.queries]
        if page.every:
            visits += [(_url(rule, {**values, page.every: one}), Page(
                who=EVERYONE if role in READERS or title in UNIT_ITEMS[role] else READERS, hidden={role},
                kind=page.kind)) for one, title in sorted(data["every"][page.every].items())]
        for url, expected in visits:
            response = client.get(f"{url}{'&' if '?' in url else '?'}lang={lang}")
            failures += [f"GET {url} as {role} ({lang}): {problem}"
                         for problem in check(response, expected, role, lang)]
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("shown, found", [
    ("<td>&lt;built-in method items of dict object at 0x7f6a22bf3000&gt;</td>", "a Python object's repr"),
    ("<td>None</td>", "None"), ('<input type="text" name="owner" value="None">', "None"),
    ("<p>{{ item.title }}</p>", "a template left unrendered"), ("<p>共 %(n)d 项</p>", "a message's placeholder"),
    ("<p>KeyError('title')</p>", "an exception"), ("<td>Status.IN_PROGRESS</td>", "an enum's repr"),
    ("<strong>request_extension</strong>", "a raw key"), ("<li>sha256: <del>—</del></li>", "a field name"),
    ("<span>王股长 (（责任人）)</span>", "brackets around brackets"), ("<p>1 items</p>", "a plural for one"),
    ("<th>Deadline</th>", "English in the Chinese page"),
])
def test_the_checks_catch_what_they_look_for(shown, found):
    """Each thing a reader must never see is reported (on a made-up page, in Chinese)."""
    assert any(found in problem for problem in wrong_things(shown_text(shown), "zh_CN")), shown
    assert not wrong_things(shown_text("<td>县教育局</td><td>4</td><td>2026-03-16</td>"), "zh_CN")
    assert BROKEN_LINK.search('<a href="/items?unit=None">')
    assert wrong_things(shown_text("<th>整改时限</th>"), "en") and not wrong_things(shown_text("<th>Deadline</th>"), "en")
