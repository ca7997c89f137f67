"""Demo data drawn from the source documents: the 2019 self-evaluation of 新源县 and a follow-up round.

Everything after the reference data is created through the real services, with the
clock moved back in time, so the journal and the lights look like months of real use.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select, update

from tracker import clock, uow
from tracker.auth.models import Role, User
from tracker.evaluations.models import Evaluation, Finding, Indicator, Rating
from tracker.extensions import db
from tracker.inspection import services as inspection_services
from tracker.items import services
from tracker.items.models import ItemKind
from tracker.notifications.models import Notice
from tracker.parts import services as part_services
from tracker.units.models import Unit

DEMO_PASSWORD = "rectify-demo"

# (code, name, parent code)
UNITS = [
    ("edu", "县教育局", None),
    ("edu-personnel", "县教育局人事股", "edu"),
    ("edu-basic", "县教育局基础教育股", "edu"),
    ("staffing", "县委编办", None),
    ("org", "县委组织部", None),
    ("hrss", "县人社局", None),
    ("finance", "县财政局", None),
    ("ndrc", "县发改委", None),
    ("housing", "县住建局", None),
    ("land", "县自然资源局", None),
    ("disabled", "县残联", None),
    ("school-no2", "县第二中学", "edu"),
]

# Level-1 and level-2 headings follow the report's sections; 30 level-3 indicators,
# rated as the report says: 27 fully, 2 basically, 1 not yet implemented.
FRAMEWORK = [
    ("1", "贯彻执行党的教育方针", [
        ("1.1", "加强党对教育工作的全面领导", ["党委政府教育工作领导机制", "教育工作领导小组运行"]),
        ("1.2", "加强教育系统党的建设", ["学校党组织设置全覆盖", "党组织领导下的校长负责制", "党建带团建队建"]),
    ]),
    ("2", "健全德智体美劳全面发展育人机制", [
        ("2.1", "立德树人落实机制", ["“五项教育”开展", "劳动教育与社会实践", "学生体质健康"]),
        ("2.2", "家校社协同育人", ["家庭教育指导", "校外教育资源统筹"]),
    ]),
    ("3", "落实国家教育法律法规规章和政策", [
        ("3.1", "依法治教", ["教育法律法规执行", "控辍保学", "国家通用语言文字教学"]),
    ]),
    ("4", "各级各类教育发展", [
        ("4.1", "学前与义务教育", ["学前教育公益普惠", "乡镇公办中心幼儿园", "义务教育均衡发展"]),
        ("4.2", "高中与职业教育", ["高中阶段教育普及", "职业院校办学能力", "民办教育规范发展"]),
        ("4.3", "民族教育与特殊教育", ["民族教育发展", "特殊教育学校建设", "残疾儿童少年入学"]),
    ]),
    ("5", "统筹推进教育工作", [
        ("5.1", "教育优先发展机制", ["教育统筹规划与决策", "消除大班额", "教育督导体制机制"]),
    ]),
    ("6", "加强教育保障", [
        ("6.1", "经费保障", ["财政教育支出逐年增长", "生均公用经费足额拨付"]),
        ("6.2", "教师队伍建设", ["教师平均工资收入", "乡村教师补充与培训", "教师编制配备"]),
    ]),
]
BASICALLY = {"1.2.2", "6.2.2"}
NOT_YET = {"4.3.2"}


def _units() -> dict[str, Unit]:
    units: dict[str, Unit] = {}
    for code, name, parent in UNITS:
        units[code] = Unit(name=name, code=code, parent=units.get(parent) if parent else None)
        db.session.add(units[code])
    return units


def _users(units: dict[str, Unit]) -> dict[str, User]:
    people = [("admin", "整改办 王主任", Role.ADMIN, None), ("inspector", "督学 李娜", Role.INSPECTOR, None),
              ("leader", "分管副县长 赵刚", Role.LEADER, None)]
    people += [(f"head-{code}", f"{unit.name}负责人", Role.HEAD, unit) for code, unit in units.items()]
    people.append(("staff-edu-personnel", "人事股联络员 马丽", Role.STAFF, units["edu-personnel"]))
    users = {}
    for username, name, role, unit in people:
        user = User(username=username, name=name, email=f"{username}@rectify.example", role=role, unit=unit)
        user.set_password(DEMO_PASSWORD)
        db.session.add(user)
        users[username] = user
    return users


def _framework(evaluation: Evaluation) -> dict[str, Indicator]:
    indicators: dict[str, Indicator] = {}

    def add(code, name, level, parent, rating=None):
        indicators[code] = Indicator(evaluation=evaluation, code=code, name=name, level=level, parent=parent,
                                     sort_key=Indicator.sort_key_for(code), self_rating=rating)
        db.session.add(indicators[code])
        return indicators[code]

    for code1, name1, seconds in FRAMEWORK:
        level1 = add(code1, name1, 1, None)
        for code2, name2, thirds in seconds:
            level2 = add(code2, name2, 2, level1)
            for n, name3 in enumerate(thirds, 1):
                code3 = f"{code2}.{n}"
                rating = (Rating.NOT_YET if code3 in NOT_YET else
                          Rating.BASICALLY if code3 in BASICALLY else Rating.FULLY)
                add(code3, name3, 3, level2, rating)
    return indicators


def is_empty() -> bool:
    return not db.session.scalar(select(func.count()).select_from(User))


def seed(today: dt.date | None = None) -> None:
    """Load the demo data; the caller has checked that the database is empty."""
    previous = clock._frozen_now
    today = today or clock.today()
    units = _units()
    users = _users(units)
    self_eval = Evaluation(title="新源县人民政府履行教育职责情况自评（2019年度）", year=2019,
                           issuing_body="新源县人民政府", issued_on=dt.date(2019, 10, 10))
    follow_up = Evaluation(title="县级人民政府履行教育职责评价督导反馈（2020年度）", year=2020,
                           issuing_body="自治州人民政府教育督导委员会办公室", issued_on=dt.date(2020, 11, 20))
    db.session.add_all([self_eval, follow_up])
    ind = _framework(self_eval)
    findings = {
        "principal": Finding(evaluation=self_eval, indicator=ind["1.2.2"], category="党的建设",
                             text="对如何落实党组织领导下的校长负责制抓的不紧。学校党支部在重大决策与中层干部管理上，"
                                  "如何发挥监督作用，没有细致的研究；对书记、校长的监督，一般还只是通过年度的工作检查"
                                  "考核和听取汇报掌握，难以做到有效监督和科学评价。"),
        "teachers": Finding(evaluation=self_eval, indicator=ind["6.2.2"], category="教师队伍",
                            text="教师结构性短缺依然存在，部分乡镇学校的小科目如：音乐、美术、体育、历史、生物、道德与"
                                 "法治等科目由非专业教师任教或其他学科教师兼任。新入职教师基数大，多为非师范类专业，"
                                 "缺少专业技能和教学方法，需加强培训。"),
        "special": Finding(evaluation=self_eval, indicator=ind["4.3.2"], category="特殊教育",
                           text="残疾儿童少年义务教育在我县普及水平仍然偏低，非义务教育阶段特殊教育发展整体相对滞后，"
                                "特殊教育学校尚未建立。"),
        "classes": Finding(evaluation=follow_up, category="办学条件",
                           text="高中大班额问题突出：全县高中133个教学班中有47个班（35.3%）班额在56—60人之间。"),
        "putonghua": Finding(evaluation=follow_up, category="语言文字",
                             text="部分教师普通话水平未达到二级乙等，个别班级尚未使用国家通用语言文字授课。"),
        "funding": Finding(evaluation=follow_up, category="经费保障",
                           text="教育经费投入仍显不足，部分学校生均公用经费拨付不及时。"),
        "layout": Finding(evaluation=follow_up, category="学校布局",
                          text="学校布局还不尽合理，城乡之间办学规模、校舍场地、办学条件的差距依然存在。"),
    }
    db.session.add_all(findings.values())
    db.session.commit()
    try:
        _items(today, units, users, findings)
        # The demo's history was told at the time: its notices are on the pages, not mailed now.
        db.session.execute(update(Notice).values(gathered_at=clock.now()))
        uow.commit()  # the command's: the whole demo ledger, or nothing
    finally:
        clock._frozen_now = previous


def _pdf(title: str) -> bytes:
    """A small, real PDF (one page) standing in for a scanned document."""
    text = title.encode("utf-8").hex()
    body = f"BT /F1 18 Tf 72 720 Td <{text}> Tj ET".encode()
    return (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>"
            b"endobj\n3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]/Contents 4 0 R>>endobj\n"
            b"4 0 obj<</Length " + str(len(body)).encode() + b">>stream\n" + body +
            b"\nendstream endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")


def _png(seed: int) -> bytes:
    """A small real PNG photo placeholder (16x16, coloured by seed)."""
    import struct
    import zlib

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    rows = b"".join(b"\x00" + bytes([(seed * 40 + x * 8) % 256, 120, (200 - x * 8) % 256]) * 16 for x in range(16))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 16, 16, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def _attach(actor, item, *files) -> None:
    from io import BytesIO

    from werkzeug.datastructures import FileStorage

    from tracker.evidence import services as evidence
    evidence.attach(actor, item, [FileStorage(BytesIO(data), filename=name) for name, data in files])


def _items(today, units, users, findings) -> None:
    admin, inspector = users["admin"], users["inspector"]
    days = dt.timedelta

    def at(offset: int) -> None:
        clock.freeze(today + days(days=offset))

    def make(finding, title, measures, target, kind, lead, coops, deadline_offset, leader="分管副县长 赵刚",
             listed=False):
        at(-60)
        item = services.create_item(admin, {
            "finding_id": findings[finding].id, "title": title, "measures": measures, "target": target,
            "kind": kind, "lead_unit_id": units[lead].id,
            "cooperating_unit_ids": [units[c].id for c in coops], "owner_id": users[f"head-{lead}"].id,
            "responsible_leader": leader, "deadline": today + days(days=deadline_offset),
            "confirm_past_deadline": True, "listed_supervision": listed})
        return item

    def run(item, steps):
        """steps: (day offset, actor, action or ('progress', text, percent), extra)"""
        for offset, actor, step in steps:
            at(offset)
            if isinstance(step, tuple):
                services.post_progress(actor, item, step[1], step[2], f"demo-{item.id}-{offset}")
            elif isinstance(step, dict):
                services.perform(actor, item, step.pop("action"), **step)
            else:
                services.perform(actor, item, step)

    head = lambda code: users[f"head-{code}"]  # noqa: E731

    def part(item, code, offset, *steps):
        """The cooperating unit `code` works on its part of `item` from day `offset`: "ack", a
        progress text, or ("done", statement)."""
        unit_part = next(p for p in part_services.parts_of(item.id) if p.unit.code == code)
        for n, step in enumerate(steps):
            at(offset + n)
            if step == "ack":
                part_services.acknowledge(head(code), unit_part)
            elif isinstance(step, tuple):
                part_services.report_done(head(code), unit_part, step[1])
            else:
                part_services.post_update(head(code), unit_part, step)

    item = make("principal", "推行书记校长交叉任职，落实党组织领导下的校长负责制",
                "推行书记校长交叉任职；涉及学校发展的重大问题在支委会集中讨论形成决议后交校委会组织实施；"
                "制定学校党组织会议和校长办公会议议事规则。",
                "全县中小学全部建立党组织领导下的校长负责制议事规则并有效运行。",
                ItemKind.LONG_TERM, "edu", ["org"], 60)
    run(item, [(-58, admin, "assign"), (-55, head("edu"), "acknowledge"),
               (-40, head("edu"), ("progress", "已完成全县中小学议事规则模板的起草，并在3所学校试点。", 25)),
               (-12, head("edu"), ("progress", "试点学校议事规则运行良好，正在全县推开。", 45))])

    item = make("principal", "建立书记、校长履职监督和科学评价机制",
                "将书记、校长履职情况纳入年度考核和督导评估；建立日常监督台账，开展述职评议。",
                "形成书记校长履职评价办法并完成首轮评价。", ItemKind.DEADLINE, "edu", ["org"], -10)
    run(item, [(-58, admin, "assign"), (-50, head("edu"), "acknowledge"),
               (-35, head("edu"), ("progress", "评价办法初稿已形成，征求组织部意见中。", 30))])

    item = make("teachers", "补充音乐、美术、体育等紧缺学科专业教师",
                "加大招聘力度，统筹编制向乡镇学校倾斜；落实教师轮岗交流机制，解决农村教师短缺问题。",
                "乡镇学校小学科专业教师配备率达到90%以上。", ItemKind.DEADLINE, "edu-personnel",
                ["staffing", "hrss", "finance"], 5)
    run(item, [(-58, admin, "assign"), (-57, head("edu-personnel"), "acknowledge"),
               (-30, users["staff-edu-personnel"], ("progress", "已报送招聘计划45人，编办已核定编制。", 40)),
               (-6, head("edu-personnel"), ("progress", "招聘笔试已完成，进入面试环节。", 60))])

    item = make("teachers", "开展新入职非师范类教师岗前与在岗培训",
                "县级集中培训与校本培训相结合，专业理论与教学技能相结合，以赛代培、以测代训。",
                "新入职教师培训全覆盖，培训考核合格率100%。", ItemKind.LONG_TERM, "edu-personnel", ["edu-basic"], 120)
    run(item, [(-58, admin, "assign"), (-56, head("edu-personnel"), "acknowledge"),
               (-10, head("edu-personnel"), ("progress", "第一期集中培训完成，参训教师126人。", 35))])

    item = make("teachers", "落实城乡教师轮岗交流机制",
                "制定教师轮岗交流实施办法，城区学校教师到乡镇学校支教不少于一年。",
                "年度轮岗交流教师比例不低于符合条件教师的10%。", ItemKind.DEADLINE, "edu-personnel", ["hrss"], 20)
    run(item, [(-58, admin, "assign"), (-57, head("edu-personnel"), "acknowledge"),
               (-20, head("edu-personnel"), ("progress", "实施办法已印发，首批52名教师完成交流。", 100))])
    part(item, "hrss", -50, "ack", "已将交流教师纳入岗位设置管理。", ("done", "人社局已完成交流教师岗位调整备案。"))
    at(-19)
    _attach(head("edu-personnel"), item, ("教师轮岗交流实施办法.pdf", _pdf("教师轮岗交流实施办法")),
            ("交流教师名单.pdf", _pdf("首批交流教师名单")))
    run(item, [(-3, head("edu-personnel"), "submit_for_closure")])

    item = make("special", "建成新源县特殊教育学校",
                "积极争取资金，完成项目立项、用地划拨、施工建设和竣工验收；同步完善特殊教育条件保障机制。",
                "特殊教育学校建成并招生，适龄残疾儿童少年入学率达到95%以上。", ItemKind.DEADLINE, "edu",
                ["ndrc", "finance", "housing", "land", "disabled"], 200, listed=True)
    run(item, [(-58, admin, "assign"), (-54, head("edu"), "acknowledge"),
               (-30, head("edu"), ("progress", "项目已由发改委批复立项，用地已选址。", 20))])
    part(item, "ndrc", -52, "ack", ("done", "项目已批复立项（新发改社会〔2026〕12号）。"))
    part(item, "finance", -50, "ack", "项目建设资金已列入年度预算，首期资金待拨付。")
    part(item, "land", -45, "ack")
    at(-29)
    _attach(head("edu"), item, ("特殊教育学校项目立项批复.pdf", _pdf("特殊教育学校项目立项批复")),
            ("选址现场.png", _png(2)))
    for title in ("用地划拨文件", "竣工验收报告", "首届招生名单"):
        inspection_services.add_requirement(inspector, item, title)
    at(-57)
    stages = [("项目立项批复", -35), ("用地划拨", -5), ("主体工程开工", 40), ("竣工验收并招生", 195)]
    planned = [services.add_milestone(admin, item, title, today + days(days=due)) for title, due in stages]
    at(-30)
    services.complete_milestone(head("edu"), item, planned[0].id)

    item = make("special", "对不能到校的重度残疾儿童开展送教上门",
                "摸清适龄残疾儿童底数，建立一人一案，组织特教教师送教上门。",
                "送教上门覆盖全部不能到校就读的适龄残疾儿童。", ItemKind.IMMEDIATE, "disabled", ["edu-basic"], -3)
    run(item, [(-40, admin, "assign")])

    item = make("classes", "消除高中56人以上大班额",
                "新建县第三中学教学楼，挖潜增加教室；严格控制招生计划和班额。",
                "高中56人以上大班额全部消除。", ItemKind.DEADLINE, "edu-basic", ["ndrc", "housing"], 30)
    run(item, [(-58, admin, "assign"), (-57, head("edu-basic"), "acknowledge"),
               (-25, head("edu-basic"), ("progress", "教学楼主体完工，预计下学期投入使用，可新增教室18间。", 35))])
    at(-4)
    inspection_services.request_extension(head("edu-basic"), item, today + days(days=90),
                                 "教学楼竣工验收推迟，需顺延至秋季学期开学前。")

    item = make("putonghua", "组织教师普通话培训与测试",
                "对未达二级乙等的教师开展集中培训并组织测试。", "全体教师普通话达到二级乙等以上。",
                ItemKind.IMMEDIATE, "edu-personnel", [], -5)
    run(item, [(-58, admin, "assign"), (-57, head("edu-personnel"), "acknowledge"),
               (-20, head("edu-personnel"), ("progress", "培训测试完成，全体教师达标。", 100))])
    at(-19)
    _attach(head("edu-personnel"), item, ("普通话测试成绩汇总.pdf", _pdf("普通话测试成绩汇总")),
            ("培训现场.png", _png(1)))
    run(item, [(-18, head("edu-personnel"), "submit_for_closure"),
               (-15, inspector, {"action": "close_item", "result": "rectified"})])

    make("funding", "足额及时拨付生均公用经费", "按季度预拨生均公用经费，建立拨付台账。",
         "生均公用经费按时足额拨付率100%。", ItemKind.DEADLINE, "finance", ["edu"], 45)

    item = make("layout", "优化城乡学校布局规划", "编制全县中小学布局专项规划，纳入国土空间规划。",
                "布局规划经县政府批准实施。", ItemKind.LONG_TERM, "edu", ["land", "housing"], 90)
    run(item, [(-58, admin, "assign"), (-55, head("edu"), "acknowledge"),
               (-20, head("edu"), ("progress", "规划初稿完成。", 80))])
    part(item, "land", -40, "ack", ("done", "布局规划已纳入国土空间规划。"))
    part(item, "housing", -40, "ack", ("done", "已提出新建校舍选址意见。"))
    at(-19)
    _attach(head("edu"), item, ("学校布局专项规划（初稿）.pdf", _pdf("学校布局专项规划初稿")))
    run(item, [(-15, head("edu"), "submit_for_closure"),
               (-8, inspector, {"action": "return_item",
                                "reason": "规划尚未经县政府批准，请补充批准文件后再申请销号。"})])
