"""Generate a province-scale Rectify database for the benchmark (bench/run.py).

    DATABASE_URL=sqlite:////tmp/rectify-bench.sqlite3 .venv/bin/flask --app wsgi db upgrade
    DATABASE_URL=sqlite:////tmp/rectify-bench.sqlite3 .venv/bin/python bench/generate.py --items 100000

Deterministic: the same --seed, --items and --today give the same rows. Per 100,000 items: 2,000
units, 5,000 users, ~115,000 cooperating units' parts, 300,000 progress updates, 200,000 evidence
rows, 1,000,000 journal entries.
The demo accounts (admin, inspector, leader, head-<unit code>) sign in with the demo password.
Rows go in with SQLAlchemy Core bulk inserts (executemany) on SQLite and with COPY on PostgreSQL,
which then gets a VACUUM ANALYZE (SQLite an ANALYZE).
Item 1 is the showcase item of the item-page benchmark: 30 progress updates, 20 evidence files,
led by 县教育局 (head-edu may see it). A JSON file (--meta) tells bench/run.py which unit, item
and API token to use.
"""
from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import logging
import os
import random
import sys
import time
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, insert, select, text  # noqa: E402
from werkzeug.security import generate_password_hash  # noqa: E402

log = logging.getLogger("bench.generate")

CHUNK = 20_000
PER_ITEM = {"progress": 3, "evidence": 2, "journal": 10}
ITEMS_PER_UNIT = 50
STAFF_PER_UNIT = 1.5
SHOWCASE = {"progress": 30, "evidence": 20}
REAL_FILES = 24

# Phrase banks: the vocabulary of real rectification ledgers, combined at random.
PLACES = ["县", "市", "区", "乡", "镇", "街道", "学区", "片区"]
SUBJECTS = ["教师结构性短缺", "学前教育公办园覆盖率偏低", "大班额问题", "特殊教育学校建设滞后",
            "义务教育经费保障不到位", "乡村教师补充机制不健全", "学校布局规划调整滞后", "控辍保学责任落实不够",
            "国家通用语言文字教学质量不高", "寄宿制学校生活设施不足", "职业教育办学条件薄弱",
            "教师培训经费未足额安排", "学生体质健康达标率偏低", "劳动教育课时不足", "校园安全管理存在漏洞",
            "教育督导机构编制不足", "生均公用经费拨付不及时", "民办学校审批监管不严"]
VERBS = ["完善", "落实", "加快", "统筹", "健全", "推进", "强化", "规范", "加大", "建立"]
OBJECTS = ["教师编制动态调整机制", "中小学校舍改扩建工程", "教育经费投入保障机制", "乡镇公办中心幼儿园建设",
           "教师招聘和轮岗交流", "特殊教育资源教室配置", "学校布局专项规划", "控辍保学联控联保责任",
           "督导问责和结果运用", "学生营养改善计划", "教师工资待遇保障", "普通话培训测试工作"]
CLAUSES = ["由县教育局牵头，会同编办、人社、财政等部门研究制定具体方案", "按照“一校一策”原则逐校排查并建立台账",
           "将整改任务纳入年度目标责任考核", "定期召开专题会议研究解决存在的困难和问题",
           "积极争取上级专项资金支持", "对照评价指标逐项查漏补缺", "建立月调度、季通报工作机制",
           "确保整改措施落地见效、问题按期销号", "同步做好佐证材料的收集整理和归档工作",
           "对整改不力的单位和个人严肃追责问责", "通过公开招聘、定向培养、交流轮岗等方式补充教师",
           "在2025年秋季学期开学前完成主体工程建设"]
PROGRESS = ["已召开专题推进会，明确责任分工和时间节点", "已完成前期摸底调查，形成问题清单",
            "项目已完成立项审批，正在开展招投标", "主体工程已完工，正在进行竣工验收",
            "已下拨专项资金，资金使用情况正在跟踪", "已完成首批教师招聘，新教师已到岗",
            "制度文件已印发，正在组织学习贯彻", "本月对照台账逐项核查，整改进度符合预期"]
FILE_NAMES = ["整改方案.pdf", "会议纪要.pdf", "现场照片.png", "验收报告.pdf", "资金拨付文件.pdf",
              "招聘公告.pdf", "工作台账.pdf", "培训签到表.png"]
DEMO_UNITS = [("edu", "县教育局"), ("edu-personnel", "县教育局人事股"), ("edu-basic", "县教育局基础教育股"),
              ("staffing", "县委编办"), ("org", "县委组织部"), ("hrss", "县人社局"), ("finance", "县财政局"),
              ("ndrc", "县发改委"), ("housing", "县住建局"), ("land", "县自然资源局"), ("disabled", "县残联"),
              ("school-no2", "县第二中学")]
COUNTIES = ["新源", "伊宁", "霍城", "巩留", "特克斯", "昭苏", "尼勒克", "察布查尔", "奎屯", "霍尔果斯", "塔城",
            "额敏", "沙湾", "托里", "裕民", "和布克赛尔", "阿勒泰", "布尔津", "富蕴", "福海", "哈巴河", "青河"]
DEPARTMENTS = ["教育局", "财政局", "人社局", "编办", "发改委", "住建局", "自然资源局", "残联", "第一中学",
               "第二中学", "第三小学", "实验小学", "中心幼儿园", "职业技术学校", "特殊教育学校", "卫健委",
               "民政局", "团委", "妇联", "公安局"]


def sentence(rng: random.Random, low: int, high: int) -> str:
    """Chinese text of `low`..`high` characters built from the phrase banks."""
    target = rng.randint(low, high)
    parts: list[str] = []
    size = 0
    while size < target:
        part = rng.choice((rng.choice(VERBS) + rng.choice(OBJECTS), rng.choice(CLAUSES), rng.choice(SUBJECTS)))
        parts.append(part)
        size += len(part) + 1
    return ("，".join(parts))[:target].rstrip("，") + "。"


def _utc(day: dt.date, rng: random.Random) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(rng.randint(0, 9), rng.randint(0, 59)), tzinfo=dt.timezone.utc)


def _real_files(upload_dir: Path) -> list[dict]:
    """A few real small files (PDF, PNG) written content-addressed into UPLOAD_DIR."""
    files = []
    for n in range(REAL_FILES):
        if n % 3 == 2:
            raw = b"\x00" + bytes([n, 40, 200]) * 16
            body = (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", (16).to_bytes(4, "big") * 2 + b"\x08\x02\x00\x00\x00")
                    + _png_chunk(b"IDAT", zlib.compress(raw * 16)) + _png_chunk(b"IEND", b""))
            ctype = "image/png"
        else:
            body = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Count 0/Kids[]>>"
                    b"endobj\n% bench file " + str(n).encode() + b"\ntrailer<</Root 1 0 R>>\n%%EOF\n")
            ctype = "application/pdf"
        sha = hashlib.sha256(body).hexdigest()
        key = f"{sha[:2]}/{sha[2:4]}/{sha}"
        path = upload_dir / key
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(body)
            path.chmod(0o444)
        name = FILE_NAMES[n % len(FILE_NAMES)]
        if ctype == "image/png":
            name = name.rsplit(".", 1)[0] + ".png"
        files.append({"sha256": sha, "storage_key": key, "size": len(body), "content_type": ctype,
                      "original_name": name})
    return files


def _copy_value(value):
    """A value as COPY takes it: JSON columns (the journal's changes) as their JSON text."""
    return json.dumps(value) if isinstance(value, (dict, list)) else value


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")


class Generator:
    def __init__(self, db, items: int, seed: int, today: dt.date, upload_dir: Path):
        self.db, self.n_items, self.today = db, items, today
        self.rng = random.Random(seed)
        self.upload_dir = upload_dir
        self.n_units = max(len(DEMO_UNITS) + 8, items // ITEMS_PER_UNIT)
        self.conn = None

    # -- helpers --------------------------------------------------------------------
    def _insert(self, table, rows: list[dict]) -> None:
        for start in range(0, len(rows), CHUNK):
            self._write(table, rows[start:start + CHUNK])

    def _stream(self, table, rows) -> int:
        """Insert rows from an iterator in chunks; returns the count."""
        batch, count = [], 0
        for row in rows:
            batch.append(row)
            if len(batch) >= CHUNK:
                self._write(table, batch)
                count += len(batch)
                batch = []
        if batch:
            self._write(table, batch)
            count += len(batch)
        return count

    def _write(self, table, rows: list[dict]) -> None:
        """One batch: executemany on SQLite; COPY on PostgreSQL, which takes rows without an
        INSERT statement to parse and plan per page of rows (journal: 83 s -> 26 s)."""
        if not rows:
            return
        if self.conn.dialect.name != "postgresql":
            self.conn.execute(insert(table), rows)
            return
        quote = self.conn.dialect.identifier_preparer.quote
        columns = list(rows[0])
        cursor = self.conn.connection.driver_connection.cursor()
        with cursor.copy(f"COPY {quote(table.name)} ({', '.join(map(quote, columns))}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([_copy_value(row[column]) for column in columns])

    # -- reference data ---------------------------------------------------------------
    def units(self, Unit) -> None:
        rows = [{"id": i + 1, "name": name, "code": code, "parent_id": 1 if 0 < i < 3 else None, "active": True}
                for i, (code, name) in enumerate(DEMO_UNITS)]
        n = len(rows)
        while n < self.n_units:
            county = COUNTIES[n % len(COUNTIES)]
            dept = DEPARTMENTS[(n // len(COUNTIES)) % len(DEPARTMENTS)]
            rows.append({"id": n + 1, "name": f"{county}县{dept}{n:04d}", "code": f"u{n:04d}",
                         "parent_id": None, "active": True})
            n += 1
        self._insert(Unit.__table__, rows)
        self.unit_ids = [r["id"] for r in rows]
        self.unit_codes = {r["id"]: r["code"] for r in rows}
        # Item counts per lead unit are skewed (a county's education bureau leads far more items):
        # 县教育局 leads 3 % of all items, the rest follow a long tail.
        self.unit_weights = [30.0] + [1.0 / (1 + (i % 97) ** 0.5) * 3 for i in range(1, len(rows))]

    def users(self, User, password_hash: str) -> None:
        now = _utc(self.today - dt.timedelta(days=5 * 365), self.rng)
        base = {"language": "zh_CN", "active": True, "digest_opt_out": False, "password_hash": password_hash,
                "must_change_password": False, "created_at": now}
        rows = [dict(base, username="admin", name="整改办 王主任", role="admin", unit_id=None),
                dict(base, username="inspector", name="督学 李娜", role="inspector", unit_id=None),
                dict(base, username="leader", name="分管副县长 赵刚", role="leader", unit_id=None)]
        for n in range(2, 30):
            rows.append(dict(base, username=f"inspector-{n}", name=f"督学{n}号", role="inspector", unit_id=None))
        for unit_id in self.unit_ids:
            code = self.unit_codes[unit_id]
            rows.append(dict(base, username=f"head-{code}", name=f"{code}负责人", role="head", unit_id=unit_id))
        staff = int(len(self.unit_ids) * STAFF_PER_UNIT)
        rows.append(dict(base, username="staff-edu-personnel", name="人事股联络员 马丽", role="staff", unit_id=2))
        for n in range(staff - 1):
            unit_id = self.unit_ids[n % len(self.unit_ids)]
            rows.append(dict(base, username=f"staff-{self.unit_codes[unit_id]}-{n}", name=f"联络员{n}",
                             role="staff", unit_id=unit_id))
        for i, row in enumerate(rows, start=1):
            row["id"] = i
            row["email"] = f"{row['username']}@rectify.example"
        self._insert(User.__table__, rows)
        self.unit_people: dict[int, list[int]] = {}
        for row in rows:
            if row["unit_id"]:
                self.unit_people.setdefault(row["unit_id"], []).append(row["id"])
        self.admin_id, self.inspector_ids = 1, [r["id"] for r in rows if r["role"] == "inspector"]
        self.n_users = len(rows)

    def framework(self, Evaluation, Indicator, Finding) -> None:
        rng = self.rng
        evaluations, indicators = [], []
        n_evaluations = max(2, min(110, self.n_items // 900))
        for e in range(1, n_evaluations + 1):
            year = self.today.year - 5 + (e * 5) // n_evaluations
            county = COUNTIES[e % len(COUNTIES)]
            evaluations.append({"id": e, "title": f"{year}年度{county}县人民政府履行教育职责自评", "year": year,
                                "issuing_body": f"{county}县人民政府教育督导委员会",
                                "issued_on": dt.date(year, 10, 10)})
        ind_id = 0
        self.third_level: dict[int, list[int]] = {}
        for ev in evaluations:
            parents: dict[str, int] = {}
            for l1 in range(1, 7):
                ind_id += 1
                parents[str(l1)] = ind_id
                indicators.append(self._indicator(ind_id, ev["id"], None, 1, str(l1)))
                for l2 in range(1, 3):
                    ind_id += 1
                    code2 = f"{l1}.{l2}"
                    indicators.append(self._indicator(ind_id, ev["id"], parents[str(l1)], 1 + 1, code2))
                    parent2 = ind_id
                    for l3 in range(1, 4 - (l2 == 2)):
                        ind_id += 1
                        indicators.append(self._indicator(ind_id, ev["id"], parent2, 3, f"{code2}.{l3}",
                                                          rng.choices(["fully", "basically", "not_yet"], [27, 2, 1])[0]))
                        self.third_level.setdefault(ev["id"], []).append(ind_id)
        self._insert(Evaluation.__table__, evaluations)
        self._insert(Indicator.__table__, indicators)
        n_findings = max(10, self.n_items // 3)
        findings = []
        for f in range(1, n_findings + 1):
            ev_id = 1 + (f * n_evaluations) // (n_findings + 1)
            findings.append({"id": f, "evaluation_id": ev_id, "indicator_id": rng.choice(self.third_level[ev_id]),
                             "text": rng.choice(SUBJECTS) + "：" + sentence(rng, 40, 180),
                             "category": rng.choice(["教师", "经费", "办学条件", "育人机制", "督导"])})
        self._insert(Finding.__table__, findings)
        self.n_findings = n_findings

    def _indicator(self, ind_id, ev_id, parent, level, code, rating=None) -> dict:
        from tracker.evaluations.models import Indicator
        return {"id": ind_id, "evaluation_id": ev_id, "parent_id": parent, "level": level, "code": code,
                "sort_key": Indicator.sort_key_for(code), "name": self.rng.choice(OBJECTS)[:30],
                "self_rating": rating, "rating_after": None, "score": None}

    # -- items and their children -------------------------------------------------------------
    def items(self, Item, coop_table, behind_on) -> None:
        rng, today = self.rng, self.today
        rows, coops = [], []
        lead_choices = rng.choices(self.unit_ids, self.unit_weights, k=self.n_items)
        self.item_meta: list[tuple[int, str, dt.date, int, int | None]] = []
        self.part_meta: list[tuple[int, int, str, dt.date, dt.date]] = []
        for i in range(1, self.n_items + 1):
            lead = 1 if i == 1 else lead_choices[i - 1]
            created = today - dt.timedelta(days=rng.randint(0, 5 * 365))
            deadline = created + dt.timedelta(days=rng.choice((15, 30, 60, 90, 180, 270, 365, 540)))
            status = self._status(deadline, created, i)
            people = self.unit_people.get(lead, [])
            owner = rng.choice(people) if people and rng.random() < 0.75 else None
            row = self._item_row(i, lead, owner, created, deadline, status, behind_on)
            rows.append(row)
            self.item_meta.append((i, status, created, lead, owner))
            for unit_id in set(rng.sample(self.unit_ids, rng.choice((0, 0, 1, 1, 2, 3)))) - {lead}:
                coops.append({"item_id": i, "unit_id": unit_id})
                self.part_meta.append((i, unit_id, status, created, deadline))
            if len(rows) >= CHUNK:
                self._insert(Item.__table__, rows)
                rows = []
        self._insert(Item.__table__, rows)
        self._insert(coop_table, coops)

    def _status(self, deadline: dt.date, created: dt.date, i: int) -> str:
        if i == 1:
            return "in_progress"
        r = self.rng.random()
        if deadline < self.today - dt.timedelta(days=60):   # long past: mostly done
            return "closed" if r < 0.86 else "cancelled" if r < 0.89 else "in_progress" if r < 0.97 else "returned"
        if created > self.today - dt.timedelta(days=10) and r < 0.3:
            return "draft"
        return self.rng.choices(["assigned", "in_progress", "submitted", "returned", "closed", "cancelled"],
                                [8, 58, 10, 4, 18, 2])[0]

    def _item_row(self, i, lead, owner, created, deadline, status, behind_on) -> dict:
        rng = self.rng
        created_at = _utc(created, rng)
        handed = status != "draft"
        acknowledged = status not in ("draft", "assigned")
        progress = 100 if status in ("closed", "submitted") else 0 if not acknowledged else rng.randint(0, 95)
        start_on = created + dt.timedelta(days=1) if acknowledged else None
        end = min(self.today, deadline + dt.timedelta(days=rng.randint(-30, 20)))
        end = max(end, created + dt.timedelta(days=1))
        last_activity = min(self.today, created + dt.timedelta(days=rng.randint(0, max(0, (end - created).days))))
        closed_at = _utc(end, rng) if status == "closed" else None
        return {
            "id": i, "finding_id": 1 + (i * 7919) % self.n_findings,
            "title": (rng.choice(VERBS) + rng.choice(OBJECTS) + rng.choice(("", "专项整改", "工作", "问题整改")))[:60],
            "measures": sentence(rng, 150, 600), "target": sentence(rng, 40, 160),
            "kind": rng.choices(["immediate", "deadline", "long_term"], [2, 7, 1])[0],
            "lead_unit_id": lead, "owner_id": owner, "responsible_leader": rng.choice(("分管副县长 赵刚", "副县长 陈明", "")),
            "deadline": deadline, "original_deadline": deadline - dt.timedelta(days=30) if rng.random() < 0.05 else deadline,
            "status": status, "listed_supervision": rng.random() < 0.03, "progress_percent": progress,
            "start_on": start_on, "behind_on": behind_on(start_on, deadline, progress) if status not in (
                "closed", "cancelled") else None,
            "last_activity_on": last_activity, "created_at": created_at, "updated_at": _utc(last_activity, rng),
            "assigned_at": created_at + dt.timedelta(hours=2) if handed else None,
            "acknowledged_at": created_at + dt.timedelta(days=1) if acknowledged else None,
            "acknowledged_by_id": owner if acknowledged else None,
            "submitted_at": _utc(end, rng) if status in ("submitted", "closed") else None,
            "closed_at": closed_at, "closed_by_id": rng.choice(self.inspector_ids) if closed_at else None,
            "closure_result": ("rectified" if rng.random() < 0.9 else "ongoing") if closed_at else None,
            "cancelled_at": _utc(end, rng) if status == "cancelled" else None,
            "cancel_reason": "事项已合并至其他整改任务" if status == "cancelled" else None,
            "return_reason": "佐证材料不充分，请补充" if status == "returned" else None, "version": 1 + rng.randint(0, 6),
        }

    def parts(self, Part) -> None:
        """A part for every cooperating unit, in the state its item's stage makes likely."""
        rng, today = self.rng, self.today

        def status_of(item_status: str) -> str:
            if item_status in ("draft", "assigned"):
                return "pending"
            if item_status in ("submitted", "closed"):
                return "done"
            return rng.choices(["pending", "in_progress", "done", "returned"], [15, 45, 35, 5])[0]

        def rows():
            for pid, (item_id, unit_id, item_status, created, deadline) in enumerate(self.part_meta, 1):
                status = status_of(item_status)
                started = status != "pending"
                done_day = min(today, created + dt.timedelta(days=rng.randint(5, 60)))
                head = self.unit_people.get(unit_id, [None])[0]
                yield {"id": pid, "item_id": item_id, "unit_id": unit_id, "request": sentence(rng, 30, 120),
                       "deadline": deadline - dt.timedelta(days=rng.choice((0, 0, 7, 14))), "status": status,
                       "created_at": _utc(created, rng), "last_activity_on": done_day if started else created,
                       "acknowledged_at": _utc(created + dt.timedelta(days=1), rng) if started else None,
                       "acknowledged_by_id": head if started else None,
                       "done_at": _utc(done_day, rng) if status == "done" else None,
                       "done_by_id": head if status == "done" else None,
                       "statement": sentence(rng, 40, 160) if status == "done" else None,
                       "return_reason": "反馈材料不完整，请补充" if status == "returned" else None,
                       "cancelled_at": None, "override_reason": None, "overridden_by_id": None, "version": 1}
        self.n_parts = self._stream(Part.__table__, rows())

    def progress(self, ProgressUpdate) -> None:
        """~3 updates per acknowledged item (30 on item 1); remembers ids for the evidence rows."""
        rng = self.rng
        self.updates_of: dict[int, list[int]] = {}
        total = self.n_items * PER_ITEM["progress"]
        eligible = [m for m in self.item_meta if m[1] not in ("draft", "assigned")]
        per = total / max(1, len(eligible))
        pid = 0

        def rows():
            nonlocal pid
            for item_id, _status, created, lead, owner in eligible:
                count = SHOWCASE["progress"] if item_id == 1 else int(per) + (rng.random() < per - int(per))
                for k in range(count):
                    pid += 1
                    self.updates_of.setdefault(item_id, []).append(pid)
                    author = owner or (self.unit_people.get(lead) or [self.admin_id])[0]
                    day = min(self.today, created + dt.timedelta(days=2 + k * rng.randint(3, 20)))
                    yield {"id": pid, "item_id": item_id, "author_id": author,
                           "body": rng.choice(PROGRESS) + "。" + sentence(rng, 40, 260),
                           "percent": min(100, 10 * (k + 1)), "submission_key": f"bench-{pid}",
                           "created_at": _utc(day, rng)}
        self.n_progress = self._stream(ProgressUpdate.__table__, rows())

    def evidence(self, Evidence, files: list[dict]) -> None:
        rng = self.rng
        target = self.n_items * PER_ITEM["evidence"]
        with_updates = list(self.updates_of.items())
        per = target / max(1, len(with_updates))

        def rows():
            eid = 0
            for item_id, update_ids in with_updates:
                count = SHOWCASE["evidence"] if item_id == 1 else min(
                    len(files), int(per) + (rng.random() < per - int(per)))
                for k, f in enumerate(rng.sample(files, count)):
                    eid += 1
                    yield dict(f, id=eid, item_id=item_id, progress_update_id=update_ids[k % len(update_ids)],
                               requirement_id=None, uploaded_by_id=self.admin_id,
                               uploaded_at=_utc(self.today - dt.timedelta(days=rng.randint(1, 900)), rng),
                               withdrawn=False, withdrawn_at=None, withdrawn_by_id=None, withdraw_reason=None)
        self.n_evidence = self._stream(Evidence.__table__, rows())

    def milestones(self, Milestone) -> None:
        rng = self.rng

        def rows():
            mid = 0
            for item_id, status, created, _lead, _owner in self.item_meta:
                if status in ("draft", "closed", "cancelled") or rng.random() > 0.25:
                    continue
                for k in range(rng.randint(1, 3)):
                    mid += 1
                    due = created + dt.timedelta(days=30 * (k + 1))
                    done = due < self.today and rng.random() < 0.6
                    yield {"id": mid, "item_id": item_id, "title": f"第{k + 1}阶段：" + rng.choice(OBJECTS),
                           "due_on": due, "done": done, "done_at": _utc(due, rng) if done else None}
        self._stream(Milestone.__table__, rows())

    def journal(self, JournalEntry) -> None:
        """~10 entries per item: create, assign, acknowledge, progress, edits, closure."""
        rng = self.rng
        total = self.n_items * PER_ITEM["journal"]
        per = total / self.n_items
        actions = [("update", {"deadline": ["2024-06-30", "2024-09-30"]}), ("progress", {"progress_percent": [20, 40]}),
                   ("update", {"measures": ["原措施", "调整后的措施"]}), ("attach_evidence", {"file": [None, "整改方案.pdf"]}),
                   ("add_milestone", {"due_on": [None, "2025-03-31"]})]

        def rows():
            jid = 0
            for item_id, status, created, lead, owner in self.item_meta:
                count = int(per) + (rng.random() < per - int(per))
                actor = owner or self.admin_id
                for k in range(count):
                    jid += 1
                    if k == 0:
                        action, changes = "create", {"status": [None, "draft"]}
                    elif k == 1 and status != "draft":
                        action, changes = "assign", {"status": ["draft", "assigned"]}
                    else:
                        action, changes = actions[k % len(actions)]
                    day = min(self.today, created + dt.timedelta(days=k * 3))
                    yield {"id": jid, "at": _utc(day, rng), "actor_id": actor if k else self.admin_id,
                           "object_type": "items", "object_id": item_id, "item_id": item_id, "action": action,
                           "changes": changes, "note": None}
        self.n_journal = self._stream(JournalEntry.__table__, rows())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=2000, help="number of items (default 2000)")
    parser.add_argument("--seed", type=int, default=9)
    parser.add_argument("--today", type=dt.date.fromisoformat, default=None,
                        help="the date the data is generated around (default: today)")
    parser.add_argument("--meta", default=str(ROOT / "instance" / "bench-meta.json"),
                        help="where to write what bench/run.py needs (unit, item, API token)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")

    from tracker import clock, create_app
    from tracker.extensions import db
    app = create_app()
    with app.app_context():
        return generate(app, db, clock, args)


def generate(app, db, clock, args) -> int:
    from tracker.api.models import ApiToken  # noqa: F401  (all tables registered)
    from tracker import cache
    from tracker.api.tokens import create_token
    from tracker.auth.models import User
    from tracker.demo import DEMO_PASSWORD
    from tracker.evaluations.models import Evaluation, Finding, Indicator
    from tracker.evidence.models import Evidence
    from tracker.items.lights import behind_on
    from tracker.items.models import Item, Milestone, ProgressUpdate, item_cooperating_units
    from tracker.journal import JournalEntry
    from tracker.parts.models import Part
    from tracker.items import search
    from tracker.units.models import Unit

    if db.session.scalar(select(func.count()).select_from(User)):
        print("The database is not empty: generate into a fresh one (flask db upgrade first).", file=sys.stderr)
        return 1
    today = args.today or clock.today()
    started = time.perf_counter()
    gen = Generator(db, args.items, args.seed, today, Path(app.config["UPLOAD_DIR"]))
    # One hash for every account: scrypt takes ~50 ms, 5,000 of them would take minutes.
    password_hash = generate_password_hash(DEMO_PASSWORD, method=app.config.get("PASSWORD_HASH_METHOD", "scrypt"))
    files = _real_files(gen.upload_dir)
    engine = db.engine
    with engine.begin() as conn:
        gen.conn = conn
        if engine.dialect.name == "sqlite":
            conn.execute(text("PRAGMA synchronous=OFF"))
        steps = [("units", lambda: gen.units(Unit)),
                 ("users", lambda: gen.users(User, password_hash)),
                 ("framework", lambda: gen.framework(Evaluation, Indicator, Finding)),
                 ("items", lambda: gen.items(Item, item_cooperating_units, behind_on)),
                 ("parts", lambda: gen.parts(Part)),
                 ("progress", lambda: gen.progress(ProgressUpdate)),
                 ("evidence", lambda: gen.evidence(Evidence, files)),
                 ("milestones", lambda: gen.milestones(Milestone)),
                 ("journal", lambda: gen.journal(JournalEntry))]
        # The search index is built in one pass after the rows: its triggers, row by row, made the
        # items step take minutes.
        search.drop_index(conn)
        steps.append(("search", lambda: search.create_index(conn)))
        for name, step in steps:
            t0 = time.perf_counter()
            step()
            log.info("%-10s %.1f s", name, time.perf_counter() - t0)
    _fix_sequences(db)
    _analyze(engine)
    admin = db.session.get(User, gen.admin_id)
    _token, secret = create_token(admin, "bench", None)
    # The rows went in by raw statements the cache's listener does not read: every generation anew,
    # so nothing kept (in a Redis, say) from before the load is served for it.
    for generation in (cache.ITEMS, cache.SEARCH, cache.UNITS, cache.PEOPLE, cache.EVALUATIONS):
        cache.renew(db.session, generation)
    db.session.commit()
    meta = {"items": args.items, "seed": args.seed, "today": today.isoformat(), "unit_id": 1, "unit_code": "edu",
            "item_id": 1, "api_token": secret, "database_url": app.config["SQLALCHEMY_DATABASE_URI"],
            "counts": {"units": len(gen.unit_ids), "users": gen.n_users, "progress": gen.n_progress,
                       "evidence": gen.n_evidence, "journal": gen.n_journal,
                       "parts": gen.n_parts}}
    Path(args.meta).parent.mkdir(parents=True, exist_ok=True)
    Path(args.meta).write_text(json.dumps(meta, indent=2))
    log.info("generated %s items in %.1f s: %s; meta in %s", args.items, time.perf_counter() - started,
             meta["counts"], args.meta)
    return 0


def _analyze(engine) -> None:
    """Planner statistics for the new rows. PostgreSQL also gets a VACUUM: until one has run, no
    page is marked all-visible and every index-only scan still reads the table (autovacuum would
    get there eventually, and is off on some servers)."""
    if engine.dialect.name != "postgresql":
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM (ANALYZE)"))


def _fix_sequences(db) -> None:
    """PostgreSQL: explicit ids leave the sequences behind; move them past the generated rows."""
    if db.engine.dialect.name != "postgresql":
        return
    with db.engine.begin() as conn:
        for table in ("units", "users", "evaluations", "indicators", "findings", "items", "parts",
                      "progress_updates", "evidence", "milestones", "journal_entries"):
            conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                              f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"))


if __name__ == "__main__":
    os.environ.setdefault("FLASK_APP", "wsgi")
    sys.exit(main())
