"""The default Word templates of the papers (templates/documents/*.docx), built with python-docx.

Each template is an ordinary .docx with docxtpl tags (`{{ … }}`, `{%p for … %}`, `{%tr for … %}`)
that an office opens in Word or WPS, adapts (letterhead, wording, fonts, the seal line) and saves
under DOCUMENT_TEMPLATE_DIR with the same name. `flask --app wsgi documents templates DIR` writes
fresh copies of these defaults into DIR to start from.

Layout after GB/T 9704 (党政机关公文格式): A4, margins 37/35/28/26 mm, title in 小标宋 (方正小标宋简体,
2号 22 pt), headings in 黑体 and 楷体, body in 仿宋 3号 (16 pt) on a fixed 28 pt line, page numbers
"— N —" in the footer. Each Chinese font names a fallback (w:altName: 黑体 for 小标宋, 仿宋 →
FangSong …) for machines without it; Latin text and digits are set in Times New Roman.
"""
from __future__ import annotations

import zipfile
from pathlib import Path

import click
from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

TITLE_FONT, HEADING_FONT, SUBHEADING_FONT, BODY_FONT = "方正小标宋简体", "黑体", "楷体", "仿宋"
LATIN_FONT = "Times New Roman"
# Declared in the font table, so that Word and WPS substitute cleanly where a font is missing.
FALLBACKS = {TITLE_FONT: "黑体", HEADING_FONT: "SimHei", SUBHEADING_FONT: "KaiTi", BODY_FONT: "FangSong"}


def _fonts(target, east_asia: str, size: float, bold: bool = False) -> None:
    """Fonts of a style or run: the Chinese face, Times New Roman for Latin text, the size."""
    target.font.name = LATIN_FONT
    target.font.size = Pt(size)
    target.font.bold = bold
    properties = target.element.get_or_add_rPr()
    fonts = properties.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        properties.insert(0, fonts)
    for side in ("w:ascii", "w:hAnsi", "w:cs"):
        fonts.set(qn(side), LATIN_FONT)
    fonts.set(qn("w:eastAsia"), east_asia)


def _paragraph_style(document, name: str, east_asia: str, size: float, *, bold=False, centred=False,
                     indent=True, right=False, space_after=0):
    style = document.styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
    style.base_style = document.styles["Normal"]
    _fonts(style, east_asia, size, bold)
    fmt = style.paragraph_format
    fmt.alignment = (WD_ALIGN_PARAGRAPH.CENTER if centred else WD_ALIGN_PARAGRAPH.RIGHT if right
                     else WD_ALIGN_PARAGRAPH.JUSTIFY)
    fmt.first_line_indent = Pt(32) if indent else Pt(0)
    fmt.space_after = Pt(space_after)
    return style


def new_document() -> Document:
    """An empty official document: A4, margins, styles and the page-number footer."""
    document = Document()
    section = document.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)
    normal = document.styles["Normal"]
    _fonts(normal, BODY_FONT, 16)
    fmt = normal.paragraph_format
    fmt.line_spacing_rule, fmt.line_spacing = WD_LINE_SPACING.EXACTLY, Pt(28)
    fmt.first_line_indent, fmt.space_after, fmt.space_before = Pt(32), Pt(0), Pt(0)
    fmt.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
    title = _paragraph_style(document, "公文标题", TITLE_FONT, 22, centred=True, indent=False, space_after=14)
    title.paragraph_format.line_spacing = Pt(36)
    _paragraph_style(document, "文号", BODY_FONT, 16, centred=True, indent=False, space_after=14)
    _paragraph_style(document, "主送", BODY_FONT, 16, indent=False)
    _paragraph_style(document, "一级标题", HEADING_FONT, 16)
    _paragraph_style(document, "二级标题", SUBHEADING_FONT, 16)
    _paragraph_style(document, "落款", BODY_FONT, 16, right=True, indent=False)
    table = _paragraph_style(document, "表格文字", BODY_FONT, 12, indent=False)
    table.paragraph_format.line_spacing = Pt(18)
    _page_numbers(section)
    return document


def _page_numbers(section) -> None:
    """— 1 — centred at the foot of every page (宋体 4号)."""
    paragraph = section.footer.paragraphs[0]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    paragraph.paragraph_format.first_line_indent = Pt(0)
    for text in ("— ", None, " —"):
        run = paragraph.add_run(text)
        _fonts(run, "宋体", 14)
        if text is None:  # the PAGE field between the dashes
            begin, instruction, end = OxmlElement("w:fldChar"), OxmlElement("w:instrText"), OxmlElement("w:fldChar")
            begin.set(qn("w:fldCharType"), "begin")
            instruction.set(qn("xml:space"), "preserve")
            instruction.text = "PAGE"
            end.set(qn("w:fldCharType"), "end")
            run.element.extend([begin, instruction, end])


def _declare_fallbacks(path: Path) -> None:
    """Add the Chinese faces with their fallbacks (w:altName) to the saved document's font table."""
    fonts = "".join(f'<w:font w:name="{name}"><w:altName w:val="{alt}"/><w:charset w:val="86"/>'
                    '<w:family w:val="auto"/></w:font>' for name, alt in FALLBACKS.items())
    with zipfile.ZipFile(path) as source:
        parts = [(info, source.read(info.filename)) for info in source.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for info, data in parts:
            if info.filename == "word/fontTable.xml":
                data = data.replace(b"</w:fonts>", fonts.encode() + b"</w:fonts>")
            target.writestr(info, data)


def _p(document, text: str = "", style: str | None = None):
    return document.add_paragraph(text, style=style)


def _column_widths(table, widths_mm: list[float]) -> None:
    """Fixed column widths (the grid, which LibreOffice and WPS read, and every cell, which Word reads)."""
    table.autofit = False
    for column, width in zip(table.columns, widths_mm):
        column.width = Mm(width)
        for cell in column.cells:
            cell.width = Mm(width)


def _grid(document, columns: int):
    """An empty bordered table, centred."""
    table = document.add_table(rows=0, cols=columns)
    table.style = document.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    return table


def _table(document, header: list[str], row: list[str], widths_mm: list[float]):
    """A bordered table: a header row and one template row (`row[0]` names the list of the `{%tr for %}`)."""
    table = _grid(document, len(header))
    blank = [""] * (len(header) - 1)
    for texts in (header, ["{%tr for line in " + row[0] + " %}", *blank], row[1:], ["{%tr endfor %}", *blank]):
        cells = table.add_row().cells
        for cell, text, width in zip(cells, texts, widths_mm):
            cell.width = Mm(width)
            cell.paragraphs[0].style = document.styles["表格文字"]
            cell.paragraphs[0].text = text
    _column_widths(table, widths_mm)
    for cell in table.rows[0].cells:
        for run in cell.paragraphs[0].runs:
            _fonts(run, HEADING_FONT, 12)
        cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
    return table


def supervision_notice() -> Document:
    document = new_document()
    _p(document, "{{ office }}", "公文标题").paragraph_format.space_after = Pt(0)
    _p(document, "督 办 单", "公文标题")
    _p(document, "{{ number }}", "文号")
    _p(document, "{{ addressee }}：", "主送")
    _p(document, "你单位牵头负责的以下整改事项{{ why }}，现予督办。请按要求抓紧整改，并于{{ reply_by }}前"
                 "将整改进展和佐证材料书面反馈。")
    rows = [("督办事项", "{{ item.title }}"), ("存在问题", "{{ problem }}"), ("问题来源", "{{ source }}"),
            ("整改措施", "{{ measures }}"), ("牵头单位", "{{ lead_unit }}"), ("配合单位", "{{ cooperating_units }}"),
            ("责任人", "{{ owner }}"), ("整改时限", "{{ deadline }}"), ("逾期天数", "{{ days_overdue }}"),
            ("整改进展", "{{ progress }}"), ("催办记录", "{{ reminders }}"), ("督办要求", "{{ requirement }}"),
            ("反馈时限", "{{ reply_by }}")]
    table = _grid(document, 2)
    for label, value in rows:
        cells = table.add_row().cells
        for cell, text, width, font in ((cells[0], label, 32, HEADING_FONT), (cells[1], value, 124, BODY_FONT)):
            cell.width = Mm(width)
            paragraph = cell.paragraphs[0]
            paragraph.style = document.styles["表格文字"]
            run = paragraph.add_run(text)
            _fonts(run, font, 12)
    _column_widths(table, [32, 124])
    _p(document, "{{ office }}（盖章）", "落款").paragraph_format.space_before = Pt(14)
    _p(document, "{{ issued_on }}", "落款")
    _p(document, "签收人（签字）：＿＿＿＿＿＿　　签收日期：＿＿＿＿＿＿", "主送")
    return document


def progress_report() -> Document:
    document = new_document()
    _p(document, "关于{{ evaluation.title }}反馈问题整改情况的报告", "公文标题")
    _p(document, "（草稿，截至{{ as_of }}）", "文号")
    _p(document, "{{ evaluation.issuing_body }}：", "主送")
    _p(document, "根据{{ evaluation.title }}反馈的问题，我们共梳理问题{{ counts.problems }}个，制定整改事项"
                 "{{ counts.total }}项。截至{{ as_of }}，已销号{{ counts.closed }}项（其中已整改{{ counts.rectified }}"
                 "项、持续整改{{ counts.ongoing }}项），正在整改{{ counts.open }}项，其中逾期{{ counts.overdue }}项"
                 "{% if counts.cancelled %}，另撤销{{ counts.cancelled }}项{% endif %}。现将整改情况报告如下。")
    _p(document, "一、整改工作总体情况", "一级标题")
    _p(document, "（由整改办补充：组织领导、工作机制、督导检查等情况。）")
    _p(document, "二、问题整改情况", "一级标题")
    _p(document, "{%p for problem in problems %}")
    _p(document, "（{{ problem.number }}）{{ problem.text }}", "二级标题")
    _p(document, "{%p for item in problem.entries %}")
    _p(document, "{{ item.number }}. {{ item.title }}（牵头单位：{{ item.lead_unit }}{% if item.cooperating_units %}"
                 "；配合单位：{{ item.cooperating_units }}{% endif %}；整改时限：{{ item.deadline }}；"
                 "状态：{{ item.status }}）")
    _p(document, "整改措施：{{ item.measures }}")
    _p(document, "进展情况：{{ item.progress }}")
    _p(document, "整改结果：{{ item.result }}")
    _p(document, "佐证材料：{{ item.evidence }}")
    _p(document, "{%p endfor %}")
    _p(document, "{%p endfor %}")
    _p(document, "三、尚未完成的整改事项", "一级标题")
    _p(document, "{%p if open_items %}")
    _p(document, "截至{{ as_of }}，尚有{{ open_items|length }}项整改事项未完成：")
    _table(document, ["序号", "整改事项", "牵头单位", "整改时限", "状态"],
           ["open_items", "{{ line.number }}", "{{ line.title }}", "{{ line.lead_unit }}", "{{ line.deadline }}",
            "{{ line.state }}"], [14, 62, 34, 26, 20])
    _p(document, "{%p else %}")
    _p(document, "所有整改事项均已完成。")
    _p(document, "{%p endif %}")
    _p(document, "四、下一步工作打算", "一级标题")
    _p(document, "（由整改办补充。）")
    _p(document)
    _p(document, "{{ office }}", "落款")
    _p(document, "{{ as_of }}", "落款")
    return document


def circular() -> Document:
    document = new_document()
    _p(document, "关于{{ period }}整改工作进展情况的通报", "公文标题")
    _p(document, "各责任单位：", "主送")
    _p(document, "现将{{ period }}各单位整改事项落实情况通报如下。本期交办整改事项{{ totals.due }}项，按期完成"
                 "{{ totals.on_time }}项；截至{{ as_of }}逾期未完成{{ totals.overdue }}项；共催办{{ totals.reminders }}"
                 "次，升级督办{{ totals.escalations }}次，退回整改{{ totals.returns }}次。")
    _p(document, "一、各单位按期完成情况", "一级标题")
    _table(document, ["排名", "单位", "交办事项", "按期完成", "按期完成率", "逾期未完成", "催办", "升级督办", "退回"],
           ["units", "{{ line.rank }}", "{{ line.name }}", "{{ line.due }}", "{{ line.on_time }}", "{{ line.rate }}",
            "{{ line.overdue }}", "{{ line.reminders }}", "{{ line.escalations }}", "{{ line.returns }}"],
           [12, 40, 14, 14, 18, 16, 12, 14, 12])
    _p(document, "二、逾期未完成事项", "一级标题")
    _p(document, "{%p if overdue_items %}")
    _table(document, ["序号", "整改事项", "牵头单位", "整改时限", "逾期天数"],
           ["overdue_items", "{{ line.number }}", "{{ line.title }}", "{{ line.lead_unit }}", "{{ line.deadline }}",
            "{{ line.days_overdue }}"], [14, 66, 36, 26, 18])
    _p(document, "{%p else %}")
    _p(document, "本期无逾期未完成事项。")
    _p(document, "{%p endif %}")
    _p(document, "三、退回整改情况", "一级标题")
    _p(document, "{%p if returned %}")
    _p(document, "{%p for line in returned %}")
    _p(document, "{{ line.number }}. {{ line.title }}（{{ line.lead_unit }}，{{ line.on }}退回）：{{ line.reason }}")
    _p(document, "{%p endfor %}")
    _p(document, "{%p else %}")
    _p(document, "本期无退回整改事项。")
    _p(document, "{%p endif %}")
    _p(document, "四、工作要求", "一级标题")
    _p(document, "请逾期未完成事项的牵头单位认真分析原因，落实整改责任，尽快完成整改并报送佐证材料。"
                 "（由整改办补充。）")
    _p(document)
    _p(document, "{{ office }}", "落款")
    _p(document, "{{ issued_on }}", "落款")
    return document


BUILDERS = {"supervision_notice.docx": supervision_notice, "progress_report.docx": progress_report,
            "circular.docx": circular}


def write_defaults(directory: Path) -> list[Path]:
    """Write the default templates into `directory` (created if needed); returns their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, build in BUILDERS.items():
        path = directory / name
        build().save(str(path))
        _declare_fallbacks(path)
        written.append(path)
    return written


@click.group("documents")
def documents_cli() -> None:
    """The Word templates of the papers (督办单, 整改情况报告, 通报)."""


@documents_cli.command("templates")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
def templates_command(directory: Path) -> None:
    """Write fresh copies of the default templates into DIRECTORY, to adapt (DOCUMENT_TEMPLATE_DIR)."""
    for path in write_defaults(directory):
        click.echo(str(path))
