"""The blank roster template villages fill in (``weiwen template``).

:func:`make_template` is what the command calls: it resolves the file name, the campaign's
vocabulary, columns and name, and the title, then writes the workbook with :func:`write_template`.
"""

from __future__ import annotations

import re
from pathlib import Path

from xlsxwriter.utility import xl_col_to_name

from weiwen.core.atomic import write_atomic
from weiwen.core.errors import WeiwenError
from weiwen.core.text import display_lines
from weiwen.model.vocab import Vocabulary, load_vocabulary
from weiwen.sheets.xlsx import new_workbook

TEMPLATE_FIELDS = (
    "seq", "village", "household_no", "name", "id_number", "sex", "relation", "categories",
    "household_size", "disability_grade", "phone", "bank_card", "bank_name", "address", "remark",
)
TEXT_FIELDS = frozenset({"household_no", "id_number", "phone", "bank_card"})
# Column widths (characters), narrow enough that the 15 columns print one page wide on A4 landscape
# at about 90% (a campaign's extra columns take a little more): an 18-digit ID and a 19-digit card
# number just fit; long headers and long texts wrap.
WIDTHS = {"seq": 5, "village": 9, "household_no": 5, "name": 7, "id_number": 20, "sex": 5, "relation": 7,
          "categories": 12, "household_size": 5, "disability_grade": 5, "phone": 13, "bank_card": 21,
          "bank_name": 10, "address": 12, "remark": 6}
WRAPPED = frozenset({"village", "name", "categories", "bank_name", "address", "remark"})
EXTRA_WIDTH = 8  # a column the campaign's rules read (上年已慰问, 家庭人均收入): short values, the header wraps
DATA_ROWS = 500
MAIN_SHEET = "花名册"
HELP_SHEET = "填写说明"
LIST_SHEET = "选项"
DEFAULT_NAME = "走访慰问"  # the title without a campaign: ＿＿＿村（社区）走访慰问对象花名册
BLANK = "＿＿＿"  # where the village writes its name in the title
_EXTENSION = re.compile(r"^\.[A-Za-z][A-Za-z0-9]{0,4}$")  # what reads as a file type (.xls, .csv), not a name's dot
_TITLE_ENDS = ("花名册", "名册", "名单", "表")

INSTRUCTIONS = [
    ("1. 每人一行", "同一户的家庭成员写在相邻的行，户号相同；户主一行“与户主关系”填“户主”。"),
    ("2. 身份证号", "身份证号、联系电话、银行卡号三列已设为“文本”格式，请直接输入，不要改成数字或常规格式，"
                 "否则 Excel/WPS 会把后几位变成 0，无法恢复。最后一位是 X 的请输入大写 X。"),
    ("3. 类别", "可从下拉列表选择；一人有多个类别时用顿号分开，例如“低保、残疾人”。"),
    ("4. 人口数", "填写全家户籍人口数（整数），同一户各行填写相同的数。"),
    ("5. 残疾等级", "有残疾证的填写一级至四级，没有的留空。"),
    ("6. 表头", "第 2 行的表头不要修改，不要插入、删除或调换列；超过 500 人时可以在下面接着填写。"),
    ("7. 表尾", "表格下方可以写“合计”“制表人”“审核人”，程序会自动识别并跳过。"),
    ("8. 标题", ""),  # filled in by _instructions: it depends on the title
    ("9. 打印", "已设置为 A4 横向、按页宽缩放，每页都印表头，填好后可以直接打印。"),
    ("10. 隐私", "本表含有身份证号等个人信息，只在经办人员之间传递，不得公开张贴。"),
]
WARNINGS = frozenset({"2. 身份证号", "10. 隐私"})  # printed in red: what cannot be undone


def template_path(output: Path) -> Path:
    """Where ``-o`` writes: a name without a suffix gets .xlsx (``模板`` → ``模板.xlsx``); a folder gets
    花名册模板.xlsx inside it; any other file type is refused (the template is an Excel workbook)."""
    if output.is_dir():
        return output / "花名册模板.xlsx"
    suffix = output.suffix
    if suffix.lower() == ".xlsx":
        return output
    if _EXTENSION.match(suffix):
        raise WeiwenError(f"模板只能保存为 Excel 工作簿（.xlsx），不能保存为“{suffix}”文件：请把文件名改为"
                          f"“{output.stem}.xlsx”，或不写扩展名。", code="template-suffix")
    return output.with_name(output.name + ".xlsx")


def template_title(name: str | None) -> str:
    """The title row: ``name`` as given when it is already a title (ends with 花名册, 名单 …), else
    ``＿＿＿村（社区）<name>对象花名册`` — the village writes its name in the blank."""
    name = (name or "").strip() or DEFAULT_NAME
    if name.endswith(_TITLE_ENDS):
        return name
    return f"{BLANK}村（社区）{name}对象花名册"


def make_template(output: Path, *, campaign: str | None = None, rules: Path | None = None,
                  aliases: Path | None = None, title: str | None = None) -> Path:
    """``weiwen template``: the blank roster for a campaign (``campaign``/``rules``: its categories in the
    drop-down list, the columns its rules read, its name in the title) or a general one; ``title``
    overrides the campaign's name.  Returns the file written."""
    target = template_path(output)
    if target.exists():  # a blank template never replaces a file: it may be a filled roster
        raise WeiwenError(f"{target} 已经存在（可能是填好的花名册），没有覆盖它。请换一个文件名，或确认不要后先删除它。",
                          code="output-exists")
    if campaign is None and rules is None:
        write_template(target, load_vocabulary(aliases), title=template_title(title))
        return target
    from weiwen.rules import campaign_vocabulary, plan_for
    from weiwen.rules.lint import columns_read

    loaded = plan_for(campaign, rules)
    write_template(target, campaign_vocabulary(loaded, aliases), extra_columns=tuple(columns_read(loaded.rules)),
                   title=template_title(title or loaded.rules.campaign.name))
    return target


def write_template(target: Path, vocab: Vocabulary, *, extra_columns: tuple[str, ...] = (),
                   title: str | None = None) -> None:
    """The blank roster; ``extra_columns``: the columns a campaign's rules read (after the standard
    ones, as text), ``title``: the title row (default: :func:`template_title` of nothing)."""
    heading = title or template_title(None)
    write_atomic(target, lambda tmp: _write(tmp, vocab, extra_columns, heading))


def _write(path: Path, vocab: Vocabulary, extra_columns: tuple[str, ...], heading: str) -> None:
    wb = new_workbook(path)
    title = wb.add_format({"bold": True, "font_size": 16, "align": "center", "valign": "vcenter", "text_wrap": True})
    head = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "align": "center", "valign": "vcenter",
                          "text_wrap": True})
    text = wb.add_format({"num_format": "@"})
    wrap = wb.add_format({"text_wrap": True, "valign": "top"})
    bordered = wb.add_format({"border": 1})

    ws = wb.add_worksheet(MAIN_SHEET)
    last_col = len(TEMPLATE_FIELDS) + len(extra_columns) - 1
    widths = [WIDTHS[key] for key in TEMPLATE_FIELDS] + [EXTRA_WIDTH for _h in extra_columns]
    headers = [vocab.label(key) for key in TEMPLATE_FIELDS] + list(extra_columns)
    ws.merge_range(0, 0, 0, last_col, heading, title)
    ws.set_row(0, 24 * display_lines(heading, int(sum(widths) * 11 / 16)) + 8)
    ws.set_row(1, 15 * max(display_lines(h, w) for h, w in zip(headers, widths, strict=True)) + 6)
    for j, (key, header) in enumerate(zip([*TEMPLATE_FIELDS, *extra_columns], headers, strict=True)):
        ws.write_string(1, j, header, head)
        column_format = text if key in TEXT_FIELDS or j >= len(TEMPLATE_FIELDS) else wrap if key in WRAPPED else None
        ws.set_column(j, j, widths[j], column_format)
    text_columns = [j for j, key in enumerate(TEMPLATE_FIELDS) if key in TEXT_FIELDS]
    text_columns += list(range(len(TEMPLATE_FIELDS), last_col + 1))
    for r in range(2, 2 + DATA_ROWS):  # typed text stays text (an ID number never becomes 4.1E+17)
        for j in text_columns:
            ws.write_blank(r, j, None, text)
    # A filled row gets its borders by itself: empty rows neither show a grid nor print.
    ws.conditional_format(2, 0, 1 + DATA_ROWS, last_col, {
        "type": "formula", "criteria": f"=COUNTA($A3:${xl_col_to_name(last_col)}3)>0", "format": bordered})
    ws.freeze_panes(2, 0)
    ws.repeat_rows(1)
    ws.set_landscape()
    ws.set_paper(9)
    ws.fit_to_pages(1, 0)
    ws.set_margins(left=0.3, right=0.3, top=0.5, bottom=0.6)
    ws.center_horizontally()
    ws.set_footer("&L制表人：　　　　　审核人：　　　　　填报日期：　　年　　月　　日&R第 &P 页，共 &N 页")

    # Option lists live on a hidden sheet: a list typed inline is limited to 255 characters.
    lists = wb.add_worksheet(LIST_SHEET)
    columns = {"categories": list(vocab.categories), "relation": sorted(set(vocab.relation_index.values()),
                                                                       key=_relation_order),
               "sex": ["男", "女"], "disability_grade": ["一级", "二级", "三级", "四级"]}
    for j, (key, values) in enumerate(columns.items()):
        lists.write_string(0, j, vocab.label(key))
        for i, v in enumerate(values, start=1):
            lists.write_string(i, j, v)
        col = TEMPLATE_FIELDS.index(key)
        source = f"={LIST_SHEET}!${chr(65 + j)}$2:${chr(65 + j)}${len(values) + 1}"
        ws.data_validation(2, col, 1 + DATA_ROWS, col, {
            "validate": "list",
            "source": source,
            # Several categories in one cell (低保、残疾人) must stay possible: warn, do not refuse.
            "error_type": "stop" if key in ("sex", "disability_grade") else "information",
            "error_title": "请从列表中选择",
            "error_message": "该值不在列表中。多个类别请用顿号分开。",
        })
    ws.data_validation(2, TEMPLATE_FIELDS.index("household_size"), 1 + DATA_ROWS,
                       TEMPLATE_FIELDS.index("household_size"),
                       {"validate": "integer", "criteria": "between", "minimum": 1, "maximum": 30,
                        "error_title": "人口数", "error_message": "请填写 1 到 30 之间的整数。"})
    lists.hide()

    _instructions(wb, heading)
    ws.activate()
    wb.close()


def _instructions(wb: object, heading: str) -> None:
    """填写说明: one A4 portrait page, every item wrapped and its row tall enough to show it whole."""
    ws = wb.add_worksheet(HELP_SHEET)  # type: ignore[attr-defined]
    fmt = {k: wb.add_format(v) for k, v in {  # type: ignore[attr-defined]
        "title": {"bold": True, "font_size": 16, "align": "center", "valign": "vcenter"},
        "key": {"bold": True, "valign": "top", "text_wrap": True, "border": 1, "bg_color": "#F2F2F2"},
        "text": {"valign": "top", "text_wrap": True, "border": 1},
        "warn": {"valign": "top", "text_wrap": True, "border": 1, "bold": True, "font_color": "#C00000"},
    }.items()}
    widths = (13, 72)
    ws.set_column(0, 0, widths[0])
    ws.set_column(1, 1, widths[1])
    ws.merge_range(0, 0, 0, 1, "花名册填写说明", fmt["title"])
    ws.set_row(0, 32)
    if BLANK in heading:
        about_title = f"第 1 行是标题：请在“{BLANK}”处写上本村（社区）名称，其余不要改动。"
    else:
        about_title = "第 1 行是标题，请不要删除；可以在标题前写上本村（社区）名称。"
    for i, (key, value) in enumerate(INSTRUCTIONS, start=1):
        value = value or about_title
        ws.write_string(i, 0, key, fmt["key"])
        ws.write_string(i, 1, value, fmt["warn" if key in WARNINGS else "text"])
        # Wrapped text does not grow its row by itself in every spreadsheet program; bold is a little wider.
        ws.set_row(i, 16 * display_lines(value, widths[1] - (4 if key in WARNINGS else 2)) + 6)
    ws.set_paper(9)
    ws.set_portrait()
    ws.set_margins(left=0.6, right=0.6, top=0.8, bottom=0.8)
    ws.center_horizontally()
    ws.fit_to_pages(1, 1)


def _relation_order(name: str) -> tuple[int, str]:
    order = ["户主", "配偶", "子女", "父母", "祖父母", "孙子女", "儿媳女婿", "兄弟姐妹", "其他"]
    return (order.index(name) if name in order else len(order), name)
